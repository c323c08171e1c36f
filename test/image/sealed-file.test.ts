// AES-256-GCM sealing of media files: a round trip, a fresh IV each time, and every kind of
// wrong input (other key, no key, an altered byte anywhere, a cut file) a typed error.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SEAL_OVERHEAD, isSealed, seal, unseal } from '../../src/image/sealed-file.js';

const decodeError = (e: Error & { type?: string }) => {
  assert.equal(e.type, 'ImageDecodeError', e.message);
  return true;
};

test('seal and unseal: round trip, header, fresh IV, plain data passes through', () => {
  const key = randomBytes(32);
  const data = randomBytes(1000);
  const a = seal(data, key);
  const b = seal(data, key);
  assert.equal(a.length, data.length + SEAL_OVERHEAD);
  assert.ok(isSealed(a) && !isSealed(data));
  assert.equal(a.subarray(0, 4).toString('latin1'), 'FEMC');
  assert.ok(!a.equals(b), 'a fresh IV per file');
  assert.deepEqual(unseal(a, key), data);
  assert.deepEqual(unseal(data, key), data, 'a file without the header is read as it is');
});

test('wrong key, no key, altered or cut bytes: ImageDecodeError, never data', () => {
  const key = randomBytes(32);
  const sealed = seal(Buffer.from('a face'), key);
  assert.throws(() => unseal(sealed, randomBytes(32)), decodeError);
  assert.throws(() => unseal(sealed, undefined), decodeError);
  for (const at of [5, 10, 20, sealed.length - 1]) {
    const altered = Buffer.from(sealed);
    altered[at]! ^= 0x80;
    assert.throws(() => unseal(altered, key), decodeError, `byte ${at}`);
  }
  const header = Buffer.from(sealed);
  header[4] = 2; // another format version is not this one's header: read as plain bytes, not opened
  assert.ok(!isSealed(header));
  assert.throws(() => unseal(sealed.subarray(0, sealed.length - 1), key), decodeError);
  assert.throws(() => unseal(sealed.subarray(0, 10), key), decodeError);
});
