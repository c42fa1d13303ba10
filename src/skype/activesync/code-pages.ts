// SPDX-License-Identifier: Apache-2.0
/**
 * ActiveSync WBXML code pages used for contacts (MS-ASWBXML; REFERENCE §11.4): 0 AirSync, 1 Contacts,
 * 7 FolderHierarchy, 12 Contacts2, and Skype/Hotmail's private page 0xFE (property bags).
 * Each table lists tag names from token 0x05 upwards.
 */

export const CodePage = {
  AirSync: 0,
  Contacts: 1,
  FolderHierarchy: 7,
  Contacts2: 12,
  SkypePrivate: 0xfe,
} as const;
export type CodePage = (typeof CodePage)[keyof typeof CodePage];

const AIRSYNC = [
  "Sync", "Responses", "Add", "Change", "Delete", "Fetch", "SyncKey", "ClientId", "ServerId", "Status",
  "Collection", "Class", "Version", "CollectionId", "GetChanges", "MoreAvailable", "WindowSize", "Commands",
  "Options", "FilterType", "Truncation", "RTFTruncation", "Conflict", "Collections", "ApplicationData",
  "DeletesAsMoves", "NotifyGUID", "Supported", "SoftDelete", "MIMESupport", "MIMETruncation", "Wait", "Limit",
  "Partial", "ConversationMode", "MaxItems", "HeartbeatInterval",
]; // prettier-ignore

const CONTACTS = [
  "Anniversary", "AssistantName", "AssistantPhoneNumber", "Birthday", "Body", "BodySize", "BodyTruncated",
  "Business2PhoneNumber", "BusinessAddressCity", "BusinessAddressCountry", "BusinessAddressPostalCode",
  "BusinessAddressState", "BusinessAddressStreet", "BusinessFaxNumber", "BusinessPhoneNumber", "CarPhoneNumber",
  "Categories", "Category", "Children", "Child", "CompanyName", "Department", "Email1Address", "Email2Address",
  "Email3Address", "FileAs", "FirstName", "Home2PhoneNumber", "HomeAddressCity", "HomeAddressCountry",
  "HomeAddressPostalCode", "HomeAddressState", "HomeAddressStreet", "HomeFaxNumber", "HomePhoneNumber", "JobTitle",
  "LastName", "MiddleName", "MobilePhoneNumber", "OfficeLocation", "OtherAddressCity", "OtherAddressCountry",
  "OtherAddressPostalCode", "OtherAddressState", "OtherAddressStreet", "PagerNumber", "RadioPhoneNumber", "Spouse",
  "Suffix", "Title", "WebPage", "YomiCompanyName", "YomiFirstName", "YomiLastName", "CompressedRTF", "Picture",
  "Alias", "WeightedRank",
]; // prettier-ignore

const FOLDER_HIERARCHY = [
  "Folders", "Folder", "DisplayName", "ServerId", "ParentId", "Type", "Response", "Status", "ContentClass",
  "Changes", "Add", "Delete", "Update", "SyncKey", "FolderCreate", "FolderDelete", "FolderUpdate", "FolderSync",
  "Count",
]; // prettier-ignore

const CONTACTS2 = [
  "CustomerId", "GovernmentId", "IMAddress", "IMAddress2", "IMAddress3", "ManagerName", "CompanyMainPhone",
  "AccountName", "NickName", "MMS",
]; // prettier-ignore

const SKYPE_PRIVATE = ["PropertyBag", "Property", "Name", "Value"];

/** First tag token of every page (tokens 0x00–0x04 are global). */
const FIRST_TAG = 0x05;

interface PageTable {
  byToken: Map<number, string>;
  byName: Map<string, number>;
}

function table(names: string[]): PageTable {
  const byToken = new Map<number, string>();
  const byName = new Map<string, number>();
  names.forEach((name, i) => {
    byToken.set(FIRST_TAG + i, name);
    byName.set(name, FIRST_TAG + i);
  });
  return { byToken, byName };
}

const PAGES = new Map<number, PageTable>([
  [CodePage.AirSync, table(AIRSYNC)],
  [CodePage.Contacts, table(CONTACTS)],
  [CodePage.FolderHierarchy, table(FOLDER_HIERARCHY)],
  [CodePage.Contacts2, table(CONTACTS2)],
  [CodePage.SkypePrivate, table(SKYPE_PRIVATE)],
]);

/** The tag name of `token` on `page`, or undefined for an unknown page or token. */
export function tagName(page: number, token: number): string | undefined {
  return PAGES.get(page)?.byToken.get(token);
}

/** The token of tag `name` on `page`, or undefined. */
export function tagToken(page: number, name: string): number | undefined {
  return PAGES.get(page)?.byName.get(name);
}
