/**
 * A tiny hand-rolled protobuf writer for messages protobufjs will not produce: unpacked repeated
 * fields, fields out of order, unknown fields, oversized varints, non-canonical encodings.
 */
export class ProtoWriter {
  private bytes: number[] = [];

  varint(n: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(n));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.bytes.push(b);
    } while (x !== 0n);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  uint(field: number, n: number | bigint): this {
    return this.tag(field, 0).varint(n);
  }

  double(field: number, v: number): this {
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, v, true);
    return this.tag(field, 1).raw(new Uint8Array(b.buffer));
  }

  /** A double given by its raw 64 bits (hi, lo), e.g. the stale marker 0x7ff00000, 0x00000002. */
  doubleBits(field: number, hi: number, lo: number): this {
    const b = new DataView(new ArrayBuffer(8));
    b.setUint32(0, lo, true);
    b.setUint32(4, hi, true);
    return this.tag(field, 1).raw(new Uint8Array(b.buffer));
  }

  fixed32(field: number, n: number): this {
    const b = new DataView(new ArrayBuffer(4));
    b.setUint32(0, n >>> 0, true);
    return this.tag(field, 5).raw(new Uint8Array(b.buffer));
  }

  bytesField(field: number, data: Uint8Array | string | ProtoWriter): this {
    const d = typeof data === 'string' ? new TextEncoder().encode(data) : data instanceof ProtoWriter ? data.finish() : data;
    return this.tag(field, 2).varint(d.length).raw(d);
  }

  /** A packed repeated varint field. */
  packed(field: number, values: number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytesField(field, inner);
  }

  raw(d: Uint8Array | number[]): this {
    for (const x of d) this.bytes.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export function pw(): ProtoWriter {
  return new ProtoWriter();
}

/** v1 Label message. */
export function v1Label(name: string, value: string): ProtoWriter {
  return pw().bytesField(1, name).bytesField(2, value);
}

/** v1 / v2 Sample message (value, timestamp). */
export function sampleMsg(value: number, timestamp: number | bigint): ProtoWriter {
  return pw().double(1, value).uint(2, timestamp);
}
