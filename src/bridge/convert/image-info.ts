// SPDX-License-Identifier: Apache-2.0
/**
 * What the first bytes of an image say cheaply: its type (PNG, JPEG, GIF, WebP) and, where the
 * header holds them, width and height. Pure; never throws; broken bytes give `undefined`.
 */
import { Transform } from "node:stream";

export interface ImageInfo {
  mimetype: "image/png" | "image/jpeg" | "image/gif" | "image/webp";
  w?: number;
  h?: number;
}

/** How much of a stream {@link HeadTap} keeps: JPEG dimensions may follow a large EXIF block. */
export const IMAGE_HEAD_BYTES = 256 * 1024;

const sane = (n: number): number | undefined => (n > 0 && n <= 100_000 ? n : undefined);

function withSize(mimetype: ImageInfo["mimetype"], w: number, h: number): ImageInfo {
  const sw = sane(w);
  const sh = sane(h);
  return sw !== undefined && sh !== undefined ? { mimetype, w: sw, h: sh } : { mimetype };
}

/** Scans JPEG segments for a start-of-frame marker. */
function jpegSize(b: Buffer): ImageInfo {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return { mimetype: "image/jpeg" };
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = b.readUInt16BE(i + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return withSize("image/jpeg", b.readUInt16BE(i + 7), b.readUInt16BE(i + 5));
    if (len < 2) return { mimetype: "image/jpeg" };
    i += 2 + len;
  }
  return { mimetype: "image/jpeg" };
}

function webpSize(b: Buffer): ImageInfo {
  const kind = b.toString("latin1", 12, 16);
  if (kind === "VP8X" && b.length >= 30)
    return withSize("image/webp", 1 + b.readUIntLE(24, 3), 1 + b.readUIntLE(27, 3));
  if (kind === "VP8 " && b.length >= 30)
    return withSize("image/webp", b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff);
  if (kind === "VP8L" && b.length >= 25) {
    const bits = b.readUInt32LE(21);
    return withSize("image/webp", (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
  }
  return { mimetype: "image/webp" };
}

/** The image type and size from its first bytes, or undefined when they are no known image. */
export function sniffImage(head: Buffer): ImageInfo | undefined {
  if (head.length >= 24 && head.readUInt32BE(0) === 0x89504e47 && head.toString("latin1", 12, 16) === "IHDR")
    return withSize("image/png", head.readUInt32BE(16), head.readUInt32BE(20));
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return jpegSize(head);
  if (head.length >= 10 && /^GIF8[79]a$/.test(head.toString("latin1", 0, 6)))
    return withSize("image/gif", head.readUInt16LE(6), head.readUInt16LE(8));
  if (
    head.length >= 16 &&
    head.toString("latin1", 0, 4) === "RIFF" &&
    head.toString("latin1", 8, 12) === "WEBP"
  )
    return webpSize(head);
  return undefined;
}

/** A pass-through that keeps a copy of the first `limit` bytes (read {@link head} after the end). */
export class HeadTap extends Transform {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Bytes that went through. */
  bytes = 0;

  constructor(private readonly limit = IMAGE_HEAD_BYTES) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _enc: BufferEncoding,
    done: (e?: Error | null, c?: Buffer) => void,
  ): void {
    this.bytes += chunk.length;
    if (this.kept < this.limit) {
      const part = chunk.subarray(0, this.limit - this.kept);
      this.chunks.push(Buffer.from(part));
      this.kept += part.length;
    }
    done(null, chunk);
  }

  get head(): Buffer {
    return Buffer.concat(this.chunks, this.kept);
  }
}
