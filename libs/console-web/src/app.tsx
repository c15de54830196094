/** The console's frame: sign-in, then a header with navigation, the theme switch and sign-out around the page of the URL fragment. */
import { useEffect, useState } from 'preact/hooks';
import { Session, type Identity } from './api.js';
import { AccessPage } from './pages/access.js';
import { EventsPage } from './pages/events.js';
import { InstancesPage } from './pages/instances.js';
import { KeysPage } from './pages/keys.js';
import { SecretsPage } from './pages/secrets.js';
import { hrefOf, useRoute, type Route } from './router.js';
import { ErrorBanner, useAction } from './ui.js';

/** The one session of this tab: its token lives in memory only, so a reload or a new tab signs in again. */
const session = new Session();

const TITLES: Readonly<Record<Route['page'], string>> = {
  instances: 'Instances',
  secrets: 'Secrets',
  keys: 'Keys',
  access: 'Access',
  events: 'Events',
};

export function App() {
  const [identity, setIdentity] = useState<Identity | undefined>(session.identity);
  const [reason, setReason] = useState<string>();
  useEffect(
    () =>
      session.onChange((next, why) => {
        setIdentity(next);
        setReason(next ? undefined : why);
      }),
    [],
  );
  return identity ? <Shell identity={identity} /> : <SignIn reason={reason} />;
}

function SignIn({ reason }: { readonly reason: string | undefined }) {
  const [apikey, setApikey] = useState('');
  const action = useAction();
  useEffect(() => {
    document.title = 'Sign in · Sealbox console';
  }, []);
  return (
    <main class="signin">
      <form
        class="card"
        aria-labelledby="signin-title"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            await session.signIn(apikey.trim());
            setApikey('');
          });
        }}
      >
        <h1 id="signin-title">Sealbox</h1>
        <p class="hint">Sign in with an IAM API key. The console keeps the token it gets in this tab's memory only.</p>
        {reason ? <p class="notice" role="status">{reason}</p> : null}
        <label class="field">
          <span>API key</span>
          <input type="password" autoComplete="off" spellcheck={false} required value={apikey} onInput={(event) => setApikey(event.currentTarget.value)} />
        </label>
        <ErrorBanner error={action.error} />
        <button type="submit" class="primary" disabled={action.busy}>
          {action.busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="hint">
          The first start of the server writes an administrator key to <code>&lt;data dir&gt;/admin-apikey</code>. API docs: <a href="/docs">/docs</a>.
        </p>
      </form>
    </main>
  );
}

function Shell({ identity }: { readonly identity: Identity }) {
  const route = useRoute();
  const [theme, setTheme] = useState<'light' | 'dark'>(() => (window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Sealbox console`;
  }, [route.page]);
  const nav: { route: Route; label: string }[] = [
    { route: { page: 'instances' }, label: 'Instances' },
    { route: { page: 'access' }, label: 'Access' },
    { route: { page: 'events' }, label: 'Events' },
  ];
  const current = route.page === 'secrets' || route.page === 'keys' ? 'instances' : route.page;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Sealbox</span>
        <nav aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item.label}>
                <a href={hrefOf(item.route)} aria-current={current === item.route.page ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" title={identity.iamId}>
          {identity.subType === 'ServiceId' ? 'Service ID' : 'User'} · account {identity.accountId}
        </span>
        <button type="button" aria-pressed={theme === 'dark'} onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}>
          Dark theme
        </button>
        <button type="button" onClick={() => session.signOut('You signed out.')}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { readonly route: Route }) {
  switch (route.page) {
    case 'instances':
      return <InstancesPage session={session} />;
    case 'secrets':
      return <SecretsPage session={session} instance={route.instance} secretId={route.secret} />;
    case 'keys':
      return <KeysPage session={session} instance={route.instance} />;
    case 'access':
      return <AccessPage session={session} />;
    case 'events':
      return <EventsPage session={session} />;
  }
}
