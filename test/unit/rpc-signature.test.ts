import { describe, expect, it } from 'vitest';
import { canonicalizeRpc, encodeRfc3986, signRpc } from '../../local/cityvisual/rpc-signature.ts';

/** The example of Alibaba's "signature mechanism" page (DescribeRegions with testid / testsecret). */
const officialExample = {
  AccessKeyId: 'testid',
  Action: 'DescribeRegions',
  Format: 'XML',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  SignatureVersion: '1.0',
  Timestamp: '2016-02-23T12:46:24Z',
  Version: '2014-05-26',
};

describe('signRpc', () => {
  it('reproduces the signature of the official example', () => {
    // Act
    const signature = signRpc('GET', officialExample, 'testsecret');

    // Assert
    expect(signature).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('ignores a Signature parameter already present', () => {
    // Arrange
    const signed = { ...officialExample, Signature: 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=' };

    // Act & Assert
    expect(signRpc('GET', signed, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('signs the HTTP method, so a GET signature does not verify a POST', () => {
    // Act
    const get = signRpc('GET', officialExample, 'testsecret');
    const post = signRpc('POST', officialExample, 'testsecret');

    // Assert
    expect(post).not.toBe(get);
  });
});

describe('encodeRfc3986', () => {
  it('encodes space, plus and the characters encodeURIComponent keeps, but not the tilde', () => {
    // Act
    const encoded = encodeRfc3986("a b+c*d!e'f(g)h~i/j");

    // Assert
    expect(encoded).toBe('a%20b%2Bc%2Ad%21e%27f%28g%29h~i%2Fj');
  });
});

describe('canonicalizeRpc', () => {
  it('sorts keys by code unit, upper case before lower case, as pop-core does', () => {
    // Act
    const canonical = canonicalizeRpc({ b: '1', B: '2', A: 'x y', Signature: 'dropped' });

    // Assert
    expect(canonical).toBe('A=x%20y&B=2&b=1');
  });
});
