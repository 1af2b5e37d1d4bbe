/**
 * Runs `fn` with `target[name]` replaced on the instance, then puts back exactly what was there
 * (an own property if it had one, otherwise the prototype method shows through again). How snap86
 * steps into one v86 save or restore without patching v86 for everyone.
 */
export function withOverride<T extends object, K extends keyof T, R>(target: T, name: K, replacement: T[K], fn: () => R): R {
  const hadOwn = Object.prototype.hasOwnProperty.call(target, name);
  const previous = target[name];
  target[name] = replacement;
  try {
    return fn();
  } finally {
    if (hadOwn) target[name] = previous;
    else delete (target as Partial<T>)[name];
  }
}
