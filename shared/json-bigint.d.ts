// json-bigint 1.0 (pop-core's JSON parser) ships no types: the one call shared/rpc-client.ts makes.
declare module 'json-bigint' {
  const JSONbig: { parse(text: string): Record<string, unknown> };
  export default JSONbig;
}
