/**
 * A binary min-heap of (due, key); stale entries are skipped by the caller (lazy deletion). Equal
 * due times come out in `order` (the memory store passes timer ids: SQLite claims ties by id).
 */
export class TimerHeap {
  private readonly dues: number[] = [];
  private readonly orders: number[] = [];
  private readonly keys: string[] = [];

  get size(): number {
    return this.dues.length;
  }

  push(due: number, key: string, order = 0): void {
    this.dues.push(due);
    this.orders.push(order);
    this.keys.push(key);
    let i = this.dues.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  peek(): { due: number; key: string } | undefined {
    return this.dues.length === 0 ? undefined : { due: this.dues[0] as number, key: this.keys[0] as string };
  }

  pop(): void {
    const last = this.dues.length - 1;
    if (last < 0) return;
    this.swap(0, last);
    this.dues.pop();
    this.orders.pop();
    this.keys.pop();
    let i = 0;
    const n = this.dues.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private less(a: number, b: number): boolean {
    const da = this.dues[a] as number;
    const db = this.dues[b] as number;
    return da < db || (da === db && (this.orders[a] as number) < (this.orders[b] as number));
  }

  private swap(a: number, b: number): void {
    const d = this.dues[a] as number;
    this.dues[a] = this.dues[b] as number;
    this.dues[b] = d;
    const o = this.orders[a] as number;
    this.orders[a] = this.orders[b] as number;
    this.orders[b] = o;
    const k = this.keys[a] as string;
    this.keys[a] = this.keys[b] as string;
    this.keys[b] = k;
  }
}
