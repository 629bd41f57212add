// Which videos a content module may embed (docs/web.md, "Video embeds"): only players on the
// hosts below, each address rewritten to the host's embed player; any other address is a plain
// link. The page's Content-Security-Policy (web/router.py, EMBED_HOSTS) allows frames from these
// player hosts only, and tests/browser check the two lists agree.

/** The player hosts frames may come from. */
export const EMBED_HOSTS = ["https://www.youtube-nocookie.com", "https://player.vimeo.com"];

const YOUTUBE_ID = /^[A-Za-z0-9_-]{6,20}$/;
const VIMEO_ID = /^\d{1,12}$/;

/** The embed player's address for the video at `url`, or null when it is not one we embed. */
export function embedAddress(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:") return null;
  const host = parsed.hostname.toLowerCase();
  const path = parsed.pathname.split("/").filter(Boolean);
  let youtube = null;
  if (["www.youtube.com", "youtube.com", "m.youtube.com", "www.youtube-nocookie.com"].includes(host)) {
    if (path[0] === "watch") youtube = parsed.searchParams.get("v");
    else if (path[0] === "embed" || path[0] === "shorts") youtube = path[1];
  } else if (host === "youtu.be") {
    youtube = path[0];
  }
  if (youtube && YOUTUBE_ID.test(youtube)) return `https://www.youtube-nocookie.com/embed/${youtube}`;
  let vimeo = null;
  if (host === "vimeo.com" || host === "www.vimeo.com") vimeo = path[0];
  else if (host === "player.vimeo.com" && path[0] === "video") vimeo = path[1];
  if (vimeo && VIMEO_ID.test(vimeo)) return `https://player.vimeo.com/video/${vimeo}`;
  return null;
}
