/** What every page of the console is: something that fetches its data and renders what changed. */

export type Config = {
  target: string;
  bucket: string;
  statusPrefix: string;
  local: boolean;
  replay: boolean;
  pollMs: number;
};

export type View = {
  /** Fetches (conditionally) and re-renders when the data changed; rejects when the server cannot be reached. */
  refresh(): Promise<void>;
  /** The `/` shortcut. */
  focusSearch?: () => void;
};
