/** Small building blocks every page uses: errors, dialogs, empty states, copy buttons, async state. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** An error as the API gave it: its IBM code and message (and the trace id to quote to an operator). */
export function ErrorBanner({ error }: { readonly error: unknown }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div class="error" role="alert">
      {api ? (
        <>
          <strong class="error-code">{api.code}</strong> <span class="error-message">{api.message}</span>
          {api.trace ? <span class="error-trace"> (trace {api.trace})</span> : null}
        </>
      ) : (
        <span class="error-message">{error instanceof Error ? error.message : String(error)}</span>
      )}
    </div>
  );
}

/** A page that has nothing to show yet, saying what to do next. */
export function EmptyState({ title, children }: { readonly title: string; readonly children?: ComponentChildren }) {
  return (
    <div class="empty" role="status">
      <p class="empty-title">{title}</p>
      {children ? <div class="empty-next">{children}</div> : null}
    </div>
  );
}

export function Spinner({ label }: { readonly label: string }) {
  return (
    <span class="spinner" role="status" aria-live="polite">
      <span class="spinner-dot" aria-hidden="true" /> {label}
    </span>
  );
}

/**
 * A modal dialog on the native <dialog>: focus moves into it, Escape closes it, the page behind is
 * inert. `onClose` runs however it was closed.
 */
export function Dialog({ title, open, onClose, children }: { readonly title: string; readonly open: boolean; readonly onClose: () => void; readonly children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const id = `dialog-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={id} onClose={onClose}>
      {open ? (
        <>
          <header class="dialog-header">
            <h2 id={id}>{title}</h2>
            <button type="button" class="icon" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </header>
          <div class="dialog-body">{children}</div>
        </>
      ) : null}
    </dialog>
  );
}

/**
 * A destructive action confirmed in a dialog; with `typedName`, the user must type that name first
 * (permanent deletes).
 */
export function ConfirmDialog(props: {
  readonly title: string;
  readonly open: boolean;
  readonly message: ComponentChildren;
  readonly confirmLabel: string;
  readonly typedName?: string;
  readonly onConfirm: () => Promise<unknown>;
  readonly onClose: () => void;
}) {
  const [typed, setTyped] = useState('');
  const action = useAction();
  useEffect(() => {
    if (props.open) setTyped('');
  }, [props.open]);
  const ready = props.typedName === undefined || typed === props.typedName;
  return (
    <Dialog title={props.title} open={props.open} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (ready) void action.run(async () => {
            await props.onConfirm();
            props.onClose();
          });
        }}
      >
        <div class="confirm-message">{props.message}</div>
        {props.typedName !== undefined ? (
          <label class="field">
            <span>Type <code>{props.typedName}</code> to confirm</span>
            <input value={typed} onInput={(event) => setTyped(event.currentTarget.value)} autoComplete="off" spellcheck={false} />
          </label>
        ) : null}
        <ErrorBanner error={action.error} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={!ready || action.busy}>
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Copy a value to the clipboard without showing it; says "Copied" for a moment. */
export function CopyButton({ value, label = 'Copy' }: { readonly value: () => string; readonly label?: string }) {
  const [copied, setCopied] = useState(false);
  const [failed, setFailed] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(value());
          setCopied(true);
          setFailed(false);
          setTimeout(() => setCopied(false), 2000);
        } catch {
          setFailed(true);
        }
      }}
    >
      {copied ? 'Copied' : failed ? 'Copy failed' : label}
    </button>
  );
}

/** Run one user action at a time, keeping its error and whether it is running. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

/** Load something from the API on mount and whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    load(controller.signal)
      .then((value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setError(undefined);
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [...deps, generation]);
  return { data, error, loading, reload: () => setGeneration((value) => value + 1) };
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
