/** A Notifier that records what it was asked to send and answers as if every endpoint took it at once. */
import type { NotificationRecord, StatusDocument } from '../../shared/status.ts';
import type { Notifier } from '../../shared/webhooks.ts';

export type RecordingNotifier = Notifier & { sent: StatusDocument[] };

export const createRecordingNotifier = (options: { endpoints: number } = { endpoints: 1 }): RecordingNotifier => {
  const notifier: RecordingNotifier = {
    sent: [],
    async notify(status, previous) {
      if (options.endpoints === 0) return undefined;
      const webhookId = `msg_${status.state}_${status.package.etag}_${status.manifest.etag}`;
      if (previous?.some((record) => record.webhookId === webhookId && record.delivered)) return previous;
      notifier.sent.push(status);
      const record: NotificationRecord = {
        endpoint: 'hooks.example.test',
        webhookId,
        type: `algolib.${status.state.toLowerCase()}`,
        delivered: true,
        attempts: 1,
        lastStatus: 204,
        at: new Date(0).toISOString(),
      };
      return [...(previous ?? []).filter((entry) => entry.webhookId !== webhookId), record];
    },
  };
  return notifier;
};
