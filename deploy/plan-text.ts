/**
 * A plan as lines for people: one line per resource with its action, then one indented line per field that changes.
 * Secret fields read `(secret)` or `(secret, changed)`; their values are not in the plan to begin with.
 */
import { countActions, type FieldChange, type Plan, type PlanAction, type PlanValue } from './plan.ts';

const ACTION_TEXT: Record<PlanAction, string> = {
  create: 'create',
  update: 'update',
  replace: 'replace (delete, then create: FC cannot change its type or bucket)',
  unchanged: 'unchanged',
  delete: 'delete (not in the template)',
  'would-delete': 'would delete (pass --yes): not in the template',
};

const show = (value: PlanValue): string => (Array.isArray(value) ? value.join(', ') : JSON.stringify(value));

// The code is compared by FC's codeChecksum, so that is what its line shows.
const label = (field: string) => (field === 'code' ? 'code (CRC-64 of the zip)' : field);

const changeText = (change: FieldChange): string => {
  const field = label(change.field);
  if (change.secret) return `${field}: ${change.removed ? '(secret, removed)' : '(secret, changed)'}`;
  if (change.removed) return `${field}: removed`;
  if (change.from === undefined) return `${field}: ${show(change.to ?? '')}`;
  return `${field}: ${show(change.from)} → ${show(change.to ?? '')}`;
};

/**
 * The plan's lines, without a trailing summary.
 *
 * @example
 * ```ts
 * for (const line of planLines(plan)) out.say(line);
 * // function      algolib/register                        update
 * //                 environmentVariables.OSS_BUCKET: "a" → "b"
 * ```
 */
export const planLines = (plan: Plan): string[] =>
  plan.resources.flatMap((resource) => {
    const head = `  ${resource.type.padEnd(13)} ${resource.id.padEnd(40)} ${ACTION_TEXT[resource.action]}`;
    // A new resource lists what it will be created with (empty fields left out); a secret field only says it is set.
    const creating = resource.action === 'create';
    const changes = resource.changes
      .filter((change) => !(creating && change.to === ''))
      .map((change) => (creating && change.secret ? `${change.field}: (secret)` : changeText(change)));
    return [head, ...changes.map((line) => `      ${line}`)];
  });

/**
 * One line that counts the plan's actions.
 *
 * @example
 * ```ts
 * planSummary(plan); // '1 to create, 2 to update, 5 unchanged'
 * ```
 */
export const planSummary = (plan: Plan): string => {
  const counts = countActions(plan);
  const parts = [
    counts.create && `${counts.create} to create`,
    counts.update && `${counts.update} to update`,
    counts.replace && `${counts.replace} to replace`,
    counts.delete && `${counts.delete} to delete`,
    counts.unchanged && `${counts.unchanged} unchanged`,
    counts['would-delete'] && `${counts['would-delete']} would be deleted with --yes`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'nothing in the template';
};
