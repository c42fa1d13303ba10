// SPDX-License-Identifier: Apache-2.0
/**
 * The objects of the reference server's object service (PROFILE §7.2, `ams`): images and files a
 * client creates, uploads once, and its conversation partners download. Kept in memory as part of
 * the shared world; the HTTP side (../http/ams.ts) serves them and the control API (./control-routes.ts)
 * creates and inspects them. Which views an object has:
 *
 * - `pish/image`: `imgpsh_fullsize` and `imgpsh` (the uploaded image), `imgt1` (the thumbnail when one
 *   was given, else the full image: PROFILE "may equal the full image").
 * - `sharing/file`: `original` (the uploaded file), `thumbnail` (only when one was given, else `404`).
 */
import { createHash, randomBytes } from "node:crypto";

export const OBJECT_TYPES = ["pish/image", "sharing/file"] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

/** Uploaded bytes of one content slot. */
export interface ObjectContent {
  readonly bytes: Buffer;
  readonly contentType: string;
  /** ms since the epoch: views become `ready` `ams_view_ready_delay_ms` after this. */
  readonly uploadedAt: number;
}

/** One object. */
export interface AmsObject {
  /** `0-weu-d1-<32 hex>`. */
  readonly id: string;
  readonly type: ObjectType;
  /** World key of the person who created it (the only one who may upload). */
  readonly creator: string;
  readonly filename?: string;
  /** Conversation id → rights, as the creator sent them (`{"8:live:bob_1": ["read"]}`). */
  readonly permissions: Readonly<Record<string, readonly string[]>>;
  readonly createdAt: number;
  /** The uploaded image or file (`content/imgpsh` or `content/original`). */
  full?: ObjectContent;
  /** A thumbnail (`content/imgt1` or `content/thumbnail`, or the control API's `thumbnailBase64`). */
  thumbnail?: ObjectContent;
}

/** Which content slot a view reads. */
export type ViewSource = "full" | "thumbnail" | "thumbnail-or-full";

const VIEWS: Record<ObjectType, Readonly<Record<string, ViewSource>>> = {
  "pish/image": { imgpsh_fullsize: "full", imgpsh: "full", imgt1: "thumbnail-or-full" },
  "sharing/file": { original: "full", thumbnail: "thumbnail" },
};

/** Upload slot names (`PUT …/content/{name}`); both main names are accepted for either type. */
const CONTENT_SLOTS: Readonly<Record<string, "full" | "thumbnail">> = {
  imgpsh: "full",
  original: "full",
  imgt1: "thumbnail",
  thumbnail: "thumbnail",
};

/** Object ids as PROFILE §7.2 shows them. */
export const OBJECT_ID = /^0-[a-z]{3}-d\d-[0-9a-f]{32}$/;

export function isObjectType(v: unknown): v is ObjectType {
  return typeof v === "string" && (OBJECT_TYPES as readonly string[]).includes(v);
}

/** The view names an object of this type has. */
export function viewNames(type: ObjectType): string[] {
  return Object.keys(VIEWS[type]);
}

/** Where a view of this type reads from, or undefined for a view the type does not have. */
export function viewSource(type: ObjectType, view: string): ViewSource | undefined {
  return Object.hasOwn(VIEWS[type], view) ? VIEWS[type][view] : undefined;
}

/** The slot `PUT …/content/{name}` writes, or undefined for an unknown name. */
export function contentSlot(name: string): "full" | "thumbnail" | undefined {
  return Object.hasOwn(CONTENT_SLOTS, name) ? CONTENT_SLOTS[name] : undefined;
}

/** The content a view shows (regardless of readiness), if there is any. */
export function viewContent(o: AmsObject, view: string): ObjectContent | undefined {
  const src = viewSource(o.type, view);
  if (src === "full") return o.full;
  if (src === "thumbnail") return o.thumbnail;
  if (src === "thumbnail-or-full") return o.thumbnail ?? o.full;
  return undefined;
}

/** The content type to serve: PNG, JPEG, GIF and WebP by their magic bytes, else the uploader's. */
export function sniffContentType(bytes: Buffer, declared: string | undefined): string {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.subarray(0, 4).toString("latin1") === "GIF8") return "image/gif";
  if (
    bytes.subarray(0, 4).toString("latin1") === "RIFF" &&
    bytes.subarray(8, 12).toString("latin1") === "WEBP"
  )
    return "image/webp";
  // Only a plain `type/subtype` is echoed back (never header injection or parameters from a client).
  const d = (declared ?? "").split(";")[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(d)
    ? d
    : "application/octet-stream";
}

/** Hex SHA-256 of some bytes (the control API shows it so tests can compare uploads). */
export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Every object, by id. */
export class ObjectStore {
  private readonly objects = new Map<string, AmsObject>();

  create(spec: {
    creator: string;
    type: ObjectType;
    permissions: Record<string, readonly string[]>;
    filename?: string;
    now: number;
  }): AmsObject {
    let id: string;
    do id = `0-weu-d1-${randomBytes(16).toString("hex")}`;
    while (this.objects.has(id));
    const o: AmsObject = {
      id,
      type: spec.type,
      creator: spec.creator,
      filename: spec.filename,
      permissions: spec.permissions,
      createdAt: spec.now,
    };
    this.objects.set(id, o);
    return o;
  }

  get(id: string): AmsObject | undefined {
    return this.objects.get(id.toLowerCase());
  }

  list(): AmsObject[] {
    return [...this.objects.values()];
  }
}
