// pointsapp service worker: app shell precache, offline wallet, Web Push.
//
// The server replaces __VERSION__ with a hash of this file and the shell
// assets, so any change installs a new worker with a fresh precache; the old
// caches are deleted when it activates.
"use strict";

const VERSION = "__VERSION__";
const SHELL_CACHE = "pointsapp-shell-" + VERSION;
// The server replaces __LANGUAGES__ with the languages it speaks; the offline page of each is precached.
const LANGUAGES = __LANGUAGES__;
const OFFLINE_PAGES = LANGUAGES.map((lang) => "/offline?lang=" + lang);
// The language of the last page the app showed (each page posts it), kept beside the shell.
const LANGUAGE_KEY = "/offline/language";
// Pages hold one user's data: never kept across a logout (see "fetch").
const PAGES_CACHE = "pointsapp-pages-" + VERSION;
const SHELL = [
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/js/push.js",
  "/static/js/offline.js",
  "/static/vendor/htmx/htmx.min.js",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/manifest.json",
  ...OFFLINE_PAGES,
];
const WALLET_PATHS = ["/", "/wallet"];
const NETWORK_TIMEOUT_MS = 5000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith("pointsapp-") && name !== SHELL_CACHE && name !== PAGES_CACHE)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "clear-pages") {
    event.waitUntil(caches.delete(PAGES_CACHE));
  } else if (event.data && LANGUAGES.includes(event.data.language)) {
    event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.put(LANGUAGE_KEY, new Response(event.data.language))));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    // Whoever logs in next must never see this user's wallet.
    event.respondWith(caches.delete(PAGES_CACHE).then(() => fetch(request)));
    return;
  }
  if (request.method !== "GET" || url.pathname.startsWith("/api/")) return;  // API data is never cached
  if (request.mode === "navigate" && WALLET_PATHS.includes(url.pathname)) {
    event.respondWith(walletNetworkFirst(request));
  } else if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.json") {
    event.respondWith(caches.match(request, { ignoreSearch: true }).then((hit) => hit || fetch(request)));
  } else if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => offlinePage()));
  }
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

async function walletNetworkFirst(request) {
  const cache = await caches.open(PAGES_CACHE);
  const key = new URL(request.url).pathname === "/" ? "/wallet" : new URL(request.url).pathname;
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok && !response.redirected) {
      // Keep a copy stamped with the time it was fetched, shown when offline.
      const headers = new Headers(response.headers);
      headers.set("X-Fetched-At", new Date().toISOString());
      const body = await response.clone().text();
      await cache.put(key, new Response(body, { status: 200, headers: headers }));
    } else if (response.type === "opaqueredirect" || response.redirected) {
      await caches.delete(PAGES_CACHE);  // sent to the login page: forget the last wallet
    }
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    return cached ? markOffline(cached) : offlinePage();
  }
}

async function markOffline(cached) {
  const fetchedAt = cached.headers.get("X-Fetched-At") || "";
  const html = (await cached.text()).replace("<html", '<html data-offline-at="' + fetchedAt + '"');
  const headers = new Headers(cached.headers);
  headers.set("Content-Type", "text/html; charset=utf-8");
  return new Response(html, { status: 200, headers: headers });
}

// The language to be offline in: the last page's, else the browser's, else the first the server speaks.
async function offlineLanguage() {
  const saved = await caches.match(LANGUAGE_KEY, { cacheName: SHELL_CACHE });
  const wanted = (saved ? await saved.text() : self.navigator.language || "").toLowerCase();
  return LANGUAGES.find((lang) => wanted.startsWith(lang)) || LANGUAGES[0];
}

// The offline page in that language, precached from the server (/offline?lang=…).
async function offlinePage() {
  const url = "/offline?lang=" + (await offlineLanguage());
  const cached = await caches.match(url, { cacheName: SHELL_CACHE });
  const html = cached ? await cached.text() : '<!doctype html><html data-offline-at=""><body><h1>pointsapp</h1></body></html>';
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// --- Web Push -------------------------------------------------------------------

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = { body: event.data.text() }; }
  const title = data.title || "pointsapp";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag,
    data: { url: data.url || "/" },
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    lang: data.lang,
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    for (const client of windows) {
      if (new URL(client.url).origin === target.origin && "focus" in client) {
        return client.navigate(target.href).then((c) => (c || client).focus());
      }
    }
    return self.clients.openWindow(target.href);
  }));
});
