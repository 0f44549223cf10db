/** The shape of `GET /api/local`, shared by the server (console/local-panels.ts) and the page (no Node types here). */
import type { InvocationRecord } from '../local/fc/invocation-log.ts';

export type DeadLetterView = {
  requestId: string;
  error: string;
  attempts: number;
  destination: string | undefined;
  /** The object whose event was given up on, and the pair a replay re-runs. */
  key: string | undefined;
  packageKey: string | undefined;
};

export type CityVisualLibraryView = {
  algoLibId: string;
  name: string;
  version: string;
  capabilities: string;
  capacity: number;
  ossBucket: string;
  ossPath: string;
  uploadTime: string;
  instanceId: string;
};

export type DeliveryView = {
  id: string;
  type: string;
  verified: boolean;
  duplicate: boolean;
  status: number;
  receivedAt: string;
  name: string | undefined;
  version: string | undefined;
  state: string | undefined;
};

export type LocalPanels = {
  invocations: InvocationRecord[];
  deadLetters: DeadLetterView[];
  libraries: CityVisualLibraryView[];
  deliveries: DeliveryView[];
  /** False when webhooks go to the user's own receiver. */
  receiver: boolean;
};
