// SPDX-License-Identifier: Apache-2.0
/**
 * Skype emoticons (`<ss type="smile">:)</ss>`) to Unicode emoji. Only common, unambiguous types
 * are mapped; anything else falls back to the text the sender's client put inside the element.
 */

const EMOJI: ReadonlyMap<string, string> = new Map([
  ["smile", "🙂"],
  ["happy", "😊"],
  ["sad", "🙁"],
  ["laugh", "😄"],
  ["lol", "😂"],
  ["rofl", "🤣"],
  ["giggle", "🤭"],
  ["cool", "😎"],
  ["surprised", "😮"],
  ["wink", "😉"],
  ["cry", "😢"],
  ["sweat", "😓"],
  ["speechless", "😐"],
  ["kiss", "😘"],
  ["tongueout", "😛"],
  ["blush", "😊"],
  ["wonder", "🤔"],
  ["think", "🤔"],
  ["sleepy", "😪"],
  ["yawn", "🥱"],
  ["puke", "🤮"],
  ["angry", "😠"],
  ["devil", "😈"],
  ["angel", "😇"],
  ["inlove", "😍"],
  ["envy", "😒"],
  ["worry", "😟"],
  ["nerd", "🤓"],
  ["lipssealed", "🤐"],
  ["smirk", "😏"],
  ["facepalm", "🤦"],
  ["shock", "😱"],
  ["hug", "🤗"],
  ["clap", "👏"],
  ["bow", "🙇"],
  ["wave", "👋"],
  ["hi", "👋"],
  ["yes", "👍"],
  ["like", "👍"],
  ["no", "👎"],
  ["ok", "👌"],
  ["handshake", "🤝"],
  ["highfive", "🙌"],
  ["muscle", "💪"],
  ["fingerscrossed", "🤞"],
  ["heart", "❤️"],
  ["brokenheart", "💔"],
  ["flower", "🌹"],
  ["sun", "☀️"],
  ["rain", "🌧️"],
  ["star", "⭐"],
  ["coffee", "☕"],
  ["pizza", "🍕"],
  ["cake", "🎂"],
  ["beer", "🍺"],
  ["drink", "🍹"],
  ["music", "🎵"],
  ["movie", "🎬"],
  ["phone", "📞"],
  ["call", "📞"],
  ["mail", "✉️"],
  ["time", "⏰"],
  ["cash", "💰"],
  ["gift", "🎁"],
  ["party", "🥳"],
]);

/**
 * The text to show for `<ss type="…">fallback</ss>`: a Unicode emoji for common types, else the
 * element's own text, else `(type)` as Skype itself writes emoticons.
 */
export function emoticonText(type: string, fallback: string): string {
  const key = type.trim().toLowerCase();
  const emoji = EMOJI.get(key);
  if (emoji !== undefined) return emoji;
  if (fallback !== "") return fallback;
  return key === "" ? "" : `(${key})`;
}
