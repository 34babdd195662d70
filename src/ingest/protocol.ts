import { AugurError } from '../errors.js';

export const PROTO_V1 = 1;
export const PROTO_V2 = 2;

const V1_PROTO = 'prometheus.writerequest';
const V2_PROTO = 'io.prometheus.write.v2.request';

/** Remote-write version named by a Content-Type header, or a 415 error. */
export function protocolOf(contentType: string | undefined): number {
  if (contentType === undefined || contentType === '') {
    throw new AugurError('UNSUPPORTED_MEDIA_TYPE', 'missing Content-Type: expected application/x-protobuf');
  }
  const parts = contentType.split(';');
  const media = parts[0]!.trim().toLowerCase();
  if (media !== 'application/x-protobuf') {
    throw new AugurError('UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Type ${JSON.stringify(media)}: expected application/x-protobuf`);
  }
  let version = PROTO_V1;
  let named = false;
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i]!.indexOf('=');
    if (eq < 0) continue;
    const key = parts[i]!.slice(0, eq).trim().toLowerCase();
    if (key !== 'proto') continue;
    if (named) throw new AugurError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type names proto= more than once');
    named = true;
    let value = parts[i]!.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const v = value.toLowerCase();
    if (v === V1_PROTO) version = PROTO_V1;
    else if (v === V2_PROTO) version = PROTO_V2;
    else {
      throw new AugurError('UNSUPPORTED_MEDIA_TYPE', `unsupported proto=${JSON.stringify(value)}: expected prometheus.WriteRequest or io.prometheus.write.v2.Request`);
    }
  }
  return version;
}

export function checkEncoding(contentEncoding: string | undefined): void {
  const e = (contentEncoding ?? '').trim().toLowerCase();
  if (e !== 'snappy') {
    throw new AugurError('UNSUPPORTED_ENCODING', e === '' ? 'missing Content-Encoding: expected snappy' : `unsupported Content-Encoding ${JSON.stringify(e)}: expected snappy`);
  }
}
