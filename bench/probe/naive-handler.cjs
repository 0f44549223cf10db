'use strict';
/**
 * The naive register function the cold-start bench compares against: both SDKs required unbundled from
 * node_modules, one client of each built in `initialize`, exactly as the real adapters configure them.
 */
const OSS = require('ali-oss');
const RPCClient = require('@alicloud/pop-core');

let clients;

exports.initialize = (context) => {
  const { accessKeyId, accessKeySecret, securityToken } = context.credentials;
  clients = {
    oss: new OSS({
      endpoint: process.env.OSS_ENDPOINT,
      region: process.env.OSS_REGION || 'oss-cn-shanghai',
      bucket: process.env.OSS_BUCKET,
      accessKeyId,
      accessKeySecret,
      stsToken: securityToken,
      refreshSTSTokenInterval: 0,
      refreshSTSToken: async () => ({ accessKeyId, accessKeySecret, stsToken: securityToken }),
      authorizationV4: true,
      timeout: 10000,
    }),
    cityvisual: new RPCClient({
      endpoint: process.env.CITYVISUAL_ENDPOINT,
      apiVersion: '2018-10-30',
      accessKeyId,
      accessKeySecret,
      securityToken,
    }),
  };
};

exports.handler = async () => JSON.stringify({ results: [], clients: Object.keys(clients) });
