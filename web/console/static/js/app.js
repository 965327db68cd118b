// The console's shell: the token prompt, the navigation between screens
// (the URL's hash names the screen) and the status line.
import { api, token, APIError } from './api.js';
import { h, replace } from './dom.js';
import { screens } from './screens.js';

const $ = (id) => document.getElementById(id);

// ctx is what every screen gets: the last report, its currency, and a
// way to say something in the status line.
const ctx = {
  report: null,
  currency: 'EUR',
  async loadReport() {
    this.report = await api('GET', '/v1/admin/report');
    this.currency = this.report.currency;
    return this.report;
  },
  say(text, bad) {
    replace($('status'), text);
    $('status').className = bad ? 'status bad' : 'status';
  },
  go(hash) {
    if (location.hash === hash) show();
    else location.hash = hash;
  },
};

function showLogin(message) {
  $('app').hidden = true;
  $('login').hidden = false;
  replace($('login-error'), message || '');
  $('token').focus();
}

async function login(ev) {
  ev.preventDefault();
  const t = $('token').value.trim();
  if (!t) return showLogin('Paste the administrator token first.');
  $('login-button').disabled = true;
  try {
    await api('GET', '/v1/admin/report', undefined, t);
    token.set(t);
    $('token').value = '';
    start();
  } catch (e) {
    showLogin(refusal(e));
  } finally {
    $('login-button').disabled = false;
  }
}

// refusal explains a failed sign-in.
function refusal(e) {
  if (e instanceof APIError && e.status === 401) {
    return 'The ledger refused this token. Use the one in the file admin.token in the ledger\'s data folder (offpay ledger init wrote it).';
  }
  if (e instanceof APIError && e.status === 429) return 'Too many wrong tokens from this address: wait a minute and try again.';
  return 'Could not sign in: ' + e.message;
}

function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  replace($('ledger'), location.host);
  show();
}

function signOut() {
  token.clear();
  ctx.report = null;
  showLogin('Signed out: the token is forgotten in this tab.');
}

// show renders the screen the hash names (#/name/arg).
async function show() {
  if (!token.get()) return showLogin();
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const screen = screens.find((s) => s.id === name) || screens[0];
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('current', a.dataset.screen === screen.id);
    if (a.dataset.screen === screen.id) {
      a.setAttribute('aria-current', 'page');
      a.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
    else a.removeAttribute('aria-current');
  }
  const main = $('main');
  main.dataset.screen = screen.id;
  replace(main, h('p', { class: 'loading' }, 'Loading…'));
  ctx.say('');
  try {
    await ctx.loadReport();
    const arg = rest.length ? decodeURIComponent(rest.join('/')) : '';
    replace(main, await screen.render(ctx, arg));
    ctx.say('Updated ' + new Date().toLocaleTimeString());
  } catch (e) {
    if (e instanceof APIError && e.status === 401) {
      token.clear();
      return showLogin('The ledger no longer accepts this token: sign in again.');
    }
    replace(main, h('p', { class: 'error', role: 'alert' }, 'The ledger refused: ' + e.message));
  }
}

function init() {
  const nav = $('nav');
  for (const s of screens) {
    nav.appendChild(h('a', { href: '#/' + s.id, dataset: { screen: s.id } }, s.title));
  }
  $('login-form').addEventListener('submit', login);
  $('signout').addEventListener('click', signOut);
  $('refresh').addEventListener('click', show);
  window.addEventListener('hashchange', show);
  if (token.get()) start();
  else showLogin();
}

init();
