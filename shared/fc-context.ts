/** The FC 2.0 context fields the function reads (the runtime passes more). */
export type FcContext = {
  requestId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  function: { name: string; timeout: number; memory?: number };
  region?: string;
};
