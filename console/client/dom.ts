/**
 * Building the page from data without `innerHTML`: every text from a status document, a manifest or a log line
 * becomes a text node, so nothing the bucket holds can run in the page.
 */

type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;
type Child = Node | string | number | undefined | false | null | Child[];

const append = (parent: Node, child: Child): void => {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) for (const item of child) append(parent, item);
  else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
};

/** `h('a', { href: '#/' }, 'Libraries')`: an element with attributes (`on…` are listeners) and children. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
};

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element (the timeline). */
export const s = (tag: string, attributes: Record<string, string | number> = {}, ...children: Child[]): SVGElement => {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  append(element, children);
  return element;
};

/** Replaces `parent`'s children. */
export const replace = (parent: Element, ...children: Child[]): void => {
  parent.replaceChildren();
  append(parent, children);
};

/** `2026-12-06 23:14:21` in local time: exact, sortable, and the same width in every row. */
export const formatTime = (iso: string | undefined): string => {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
};

/** A state as a badge; the word is always there, so colour is never the only signal. */
export const stateBadge = (state: string): HTMLElement =>
  h('span', { class: `badge state-${state.toLowerCase()}` }, state);
