/** Our agent's typing state for the other side: start at once, stop after inactivity (F4). */
export class TypingDebounce {
  private typing = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly emit: (typing: boolean) => void,
    private readonly idleMs = 3000,
  ) {}

  /** Call on every keystroke that changes the draft. */
  input(draftEmpty: boolean): void {
    if (draftEmpty) {
      this.stop();
      return;
    }
    if (!this.typing) {
      this.typing = true;
      this.emit(true);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(), this.idleMs);
  }

  /** Sent or cleared: no longer typing (Python clears its flag on send by itself). */
  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.typing = false;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.typing) {
      this.typing = false;
      this.emit(false);
    }
  }
}
