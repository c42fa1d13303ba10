// SPDX-License-Identifier: Apache-2.0
/**
 * The contact routes of the provisioning API (bridgev2 v3): `contacts`, `resolve_identifier/{id}`
 * and `create_dm/{id}`. A contact is `{id, name, identifiers, mxid, dm_room_mxid}`: its Skype
 * identity, display name, identities as URIs (`mailto:` for `1:`, `skype:` for `8:`), puppet and
 * DM portal. An identifier is what `pm` accepts (name, e-mail, Skype name, MRI) or a puppet's MXID.
 */
import type { Contact } from "../../skype/model.js";
import { parsePuppetMxid } from "../ghosts/ids.js";
import { openDm } from "../user/open-dm.js";
import { preferredIdentity, resolveId } from "../user/commands/resolve.js";
import { notFound, notLoggedIn, ProvisioningErrorCode, badRequest } from "./errors.js";
import type { ProvisioningDeps, Route } from "./types.js";

/** `1:x@y` → `mailto:x@y`, `8:name` → `skype:name`, others as they are. */
export function identityUri(mri: string): string {
  if (mri.startsWith("1:")) return `mailto:${mri.slice(2)}`;
  if (mri.startsWith("8:")) return `skype:${mri.slice(2)}`;
  return mri;
}

function contactsOf(deps: ProvisioningDeps, user: string): Contact[] {
  const session = deps.sessions.get(user);
  if (!session) throw notLoggedIn();
  return session.contacts();
}

function contactJson(deps: ProvisioningDeps, user: string, c: Contact): Record<string, unknown> {
  const { puppets, store } = deps.bridge;
  const id = preferredIdentity(c);
  const person = puppets.personFor(id);
  const room = store.portals.get(user, person.id)?.roomId;
  return {
    id,
    name: c.displayName,
    identifiers: c.identities.map(identityUri),
    mxid: puppets.mxidOf(person.id),
    ...(room ? { dm_room_mxid: room } : {}),
  };
}

/** The contact an identifier names; 404 when none (or several) does. */
function resolveContact(deps: ProvisioningDeps, user: string, raw: string): Contact {
  const contacts = contactsOf(deps, user);
  const id = raw.trim();
  if (!id) throw badRequest(ProvisioningErrorCode.MissingParam, "The identifier is empty");
  const { config } = deps;
  const fromPuppet = id.startsWith("@")
    ? parsePuppetMxid(config.puppets.localpart_template, id, config.homeserver.domain)
    : null;
  const r = resolveId(contacts, fromPuppet ?? id);
  if (r.kind === "known") return r.person;
  if (r.kind === "ambiguous") throw notFound(`"${id}" matches several contacts`);
  throw notFound("Identifier not found among your Skype contacts");
}

export function contactRoutes(deps: ProvisioningDeps): Route[] {
  return [
    {
      method: "get",
      path: "/v3/contacts",
      handler: (user, _req, res) => {
        const contacts = [...contactsOf(deps, user)].sort((a, b) =>
          a.displayName.localeCompare(b.displayName),
        );
        res.json({ contacts: contacts.map((c) => contactJson(deps, user, c)) });
        return Promise.resolve();
      },
    },
    {
      method: "get",
      path: "/v3/resolve_identifier/:id",
      handler: (user, req, res) => {
        res.json(contactJson(deps, user, resolveContact(deps, user, String(req.params.id))));
        return Promise.resolve();
      },
    },
    {
      method: "post",
      path: "/v3/create_dm/:id",
      handler: async (user, req, res) => {
        const contact = resolveContact(deps, user, String(req.params.id));
        const dm = await openDm(deps.bridge, user, preferredIdentity(contact));
        res
          .status(dm.created ? 201 : 200)
          .json({ ...contactJson(deps, user, contact), dm_room_mxid: dm.roomId });
      },
    },
  ];
}
