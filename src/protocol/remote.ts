/**
 * Comlink proxies nested property paths at run time (`remote.checkpoints.list()` sends the path
 * ["checkpoints", "list"]), but its `Remote<T>` types a plain-object property as a promise of
 * its value. `RemoteFacets<T>` says what really happens: each facet is itself a remote.
 */
import type { ProxyMarked, Remote } from "comlink";

export type RemoteFacets<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => unknown ? Remote<T[K]> : Remote<T[K] & ProxyMarked>;
};
