import { useEffect, useState } from 'preact/hooks';

/**
 * Pages live in the URL fragment (`#/instances/<guid>/secrets`): the static server needs no fallback
 * route, and the fragment never reaches a server or its logs. Only ids and names go in it, never a
 * secret, a token or an API key.
 */
export type Route =
  | { readonly page: 'instances' }
  | { readonly page: 'secrets'; readonly instance: string; readonly secret?: string }
  | { readonly page: 'keys'; readonly instance: string }
  | { readonly page: 'access' }
  | { readonly page: 'events' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, instance, section, secret] = parts;
  if (first === 'instances' && instance && section === 'secrets') return secret ? { page: 'secrets', instance, secret } : { page: 'secrets', instance };
  if (first === 'instances' && instance && section === 'keys') return { page: 'keys', instance };
  if (first === 'access') return { page: 'access' };
  if (first === 'events') return { page: 'events' };
  return { page: 'instances' };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'instances':
      return '#/instances';
    case 'secrets':
      return `#/instances/${encodeURIComponent(route.instance)}/secrets${route.secret ? `/${encodeURIComponent(route.secret)}` : ''}`;
    case 'keys':
      return `#/instances/${encodeURIComponent(route.instance)}/keys`;
    case 'access':
      return '#/access';
    case 'events':
      return '#/events';
  }
}

export function navigate(route: Route): void {
  window.location.hash = hrefOf(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}
