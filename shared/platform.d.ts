// `platform` (ali-oss's dependency for its User-Agent) ships no types: the one property shared/oss-client.ts reads.
declare module 'platform' {
  const platform: { description: string };
  export default platform;
}
