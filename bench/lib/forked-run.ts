/**
 * The entry of a helper process the harness forks (the freshness writer and prober): the parent
 * sends one config over IPC, the helper runs with it and reports over the same channel, then lets
 * the channel go so the process can end; a failure is printed and exits 1 (the parent sees the exit).
 */
export function serveForkedRun<Config, Message>(run: (config: Config, send: (m: Message) => void) => Promise<void>): void {
  process.once("message", (config: Config) => {
    const send = (m: Message): void => void process.send?.(m);
    run(config, send).then(
      () => process.disconnect?.(),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
