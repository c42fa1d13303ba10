// SPDX-License-Identifier: Apache-2.0
/**
 * What a person does in the browser during the browser sign-in: open the authorize URL, fill in
 * the form, and copy the final address. Written from PROFILE §2 for the tests.
 */
import { request } from "undici";

function decodeHtml(s: string): string {
  return s
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");
}

export async function browserSignIn(authorizeUrl: string, email: string, password: string): Promise<string> {
  const page = await request(authorizeUrl);
  const html = await page.body.text();
  const setCookie = page.headers["set-cookie"];
  const cookies = (Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [])
    .map((c) => c.split(";")[0])
    .join("; ");
  const ppft =
    /name="PPFT"[^>]*value="([^"]*)"/.exec(html)?.[1] ?? /value="([^"]*)"[^>]*name="PPFT"/.exec(html)?.[1];
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
  if (!ppft || !action) throw new Error("the sign-in page has no form");
  const post = await request(new URL(decodeHtml(action), authorizeUrl).toString(), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies },
    body: new URLSearchParams({ login: email, passwd: password, PPFT: decodeHtml(ppft) }).toString(),
  });
  await post.body.text();
  const location = post.headers.location;
  if (post.statusCode !== 302 || typeof location !== "string")
    throw new Error(`sign-in answered ${post.statusCode}`);
  return location;
}
