/**
 * A small least-recently-used map. Statement analysis runs for every statement the gateway sees,
 * and clients repeat the same few statement texts, so a bounded map keyed by exact text turns the
 * parse and the tree walk into one lookup.
 */

/** A bounded map that evicts the least recently used entry when full. */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('LruCache size must be >= 1');
    this.#max = max;
  }

  /** Returns the value and marks it as recently used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    // Map iteration order is insertion order: re-inserting moves the key to the young end.
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** Stores a value, evicting the oldest entry when the cache is full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }

  /** Number of entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** Drops every entry. */
  clear(): void {
    this.#map.clear();
  }
}
