/** The Kafscale codec the store applies changes with: key routing plus value decoding. */
import type { Codec } from "../store/index.js";
import { decodeEntry } from "./decode.js";
import { parseKey } from "./keys.js";

export const kafscaleCodec: Codec = { route: parseKey, decode: decodeEntry };
