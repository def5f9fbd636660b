/**
 * Recursion check. Rego forbids recursive rules; the planner records which rule set (or tree
 * node read as a whole) refers to which, and every cycle in that graph is an error.
 */

/** The cycles of the dependency graph (each as the list of keys along it), one per cycle. */
export function findRecursion(edges: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();

  const visit = (v: string): void => {
    state.set(v, 'active');
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      const s = state.get(w);
      if (s === 'active') {
        const cycle = stack.slice(stack.indexOf(w));
        const key = [...cycle].sort().join('|');
        if (!reported.has(key)) {
          reported.add(key);
          cycles.push(
            cycle.filter((k) => !k.startsWith('node:')).length > 0 ? rotate(cycle) : cycle,
          );
        }
      } else if (s === undefined) {
        visit(w);
      }
    }
    stack.pop();
    state.set(v, 'done');
  };
  for (const v of edges.keys()) if (!state.has(v)) visit(v);
  return cycles;
}

/** Start a cycle at its first rule set rather than at a tree node. */
function rotate(cycle: string[]): string[] {
  const i = cycle.findIndex((k) => !k.startsWith('node:'));
  return [...cycle.slice(i), ...cycle.slice(0, i)];
}
