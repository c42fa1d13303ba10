// SPDX-License-Identifier: Apache-2.0
/** Management rooms kept in the store's users table. */
import type { Store } from "../store/types.js";
import type { ManagementRoomStore } from "./management.js";

export function managementRoomsFromStore(store: Store): ManagementRoomStore {
  return {
    getManagementRoom: (mxid) => store.users.get(mxid)?.managementRoomId ?? undefined,
    setManagementRoom: (mxid, roomId) => {
      store.users.upsert(mxid, { managementRoomId: roomId });
    },
    managementRoomOwner: (roomId) => store.users.getByManagementRoom(roomId)?.mxid,
  };
}
