/** A binary min-heap of (due, key); stale entries are skipped by the caller (lazy deletion). */
export class TimerHeap {
  private readonly dues: number[] = [];
  private readonly keys: string[] = [];

  get size(): number {
    return this.dues.length;
  }

  push(due: number, key: string): void {
    this.dues.push(due);
    this.keys.push(key);
    let i = this.dues.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.dues[parent] as number) <= due) break;
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
    this.keys.pop();
    let i = 0;
    const n = this.dues.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && (this.dues[l] as number) < (this.dues[m] as number)) m = l;
      if (r < n && (this.dues[r] as number) < (this.dues[m] as number)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const d = this.dues[a] as number;
    this.dues[a] = this.dues[b] as number;
    this.dues[b] = d;
    const k = this.keys[a] as string;
    this.keys[a] = this.keys[b] as string;
    this.keys[b] = k;
  }
}
