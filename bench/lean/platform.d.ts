// `platform` (ali-oss's dependency for its User-Agent) ships no types: the one property the lean variant reads.
declare module 'platform' {
  const platform: { description: string };
  export default platform;
}
