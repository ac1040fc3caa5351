package rpc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials says how a request authenticated.
type Credentials struct {
	Scheme string // "token", "jupyter-cookie", or an Authenticator's own
	User   string // who, where the scheme knows ("" for a token)
	// Ambient credentials are ones a browser attaches by itself, cookies:
	// a foreign page can make the browser send them, so state-changing
	// requests authenticated by them must also pass the XSRF check.
	Ambient bool
}

// ErrNoCredentials is returned by an Authenticator that found no
// credentials of its kind in a request; AnyOf then asks the next one.
var ErrNoCredentials = errors.New("no credentials")

// An Authenticator decides whether a request (a call over HTTP, a fetch of
// the method list, a WebSocket handshake) comes from the user. It returns
// ErrNoCredentials when the request carries none of its kind, and another
// error when it carries wrong ones.
type Authenticator interface {
	Authenticate(r *http.Request) (Credentials, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (Credentials, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (Credentials, error) { return f(r) }

// AnyOf accepts a request that any of auths accepts, asking them in order.
// Wrong credentials end the search: a request with a wrong token is
// refused even if it also has a good cookie, so that a misconfigured
// client hears about its token.
func AnyOf(auths ...Authenticator) Authenticator {
	return AuthenticatorFunc(func(r *http.Request) (Credentials, error) {
		for _, a := range auths {
			c, err := a.Authenticate(r)
			if !errors.Is(err, ErrNoCredentials) {
				return c, err
			}
		}
		return Credentials{}, ErrNoCredentials
	})
}

var (
	_ Authenticator = AuthenticatorFunc(nil)
	_ Authenticator = (*tokenAuth)(nil)
)

// tokenAuth accepts the header "Authorization: token T" (or "Bearer T", as
// newer Jupyter servers also do) for any of its tokens.
type tokenAuth struct {
	sums [][sha256.Size]byte
}

// TokenAuth returns an Authenticator that accepts any of tokens in the
// Authorization header: the sidecar's own, and Jupyter's where the kernel
// side knows only that one. Tokens are compared in constant time, and all
// of them every time, so timing tells nothing about which one nearly
// matched. Tokens in the URL are refused by the Server, not here.
func TokenAuth(tokens ...string) (Authenticator, error) {
	if len(tokens) == 0 {
		return nil, errors.New("token auth: no token")
	}
	a := &tokenAuth{}
	for _, t := range tokens {
		if strings.TrimSpace(t) == "" {
			return nil, errors.New("token auth: empty token")
		}
		a.sums = append(a.sums, sha256.Sum256([]byte(t)))
	}
	return a, nil
}

func (a *tokenAuth) Authenticate(r *http.Request) (Credentials, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer") {
		return Credentials{}, ErrNoCredentials
	}
	// Hashing first makes the comparison independent of the length too.
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	ok := 0
	for i := range a.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], a.sums[i][:])
	}
	if ok != 1 {
		return Credentials{}, errors.New("wrong token")
	}
	return Credentials{Scheme: "token"}, nil
}

// JupyterCookieConfig configures NewJupyterCookie.
type JupyterCookieConfig struct {
	// URL is the Jupyter server's base URL as the sidecar reaches it:
	// http://127.0.0.1:8888/ (with the base_url, if any).
	URL string
	// Client makes the checks (default: one with a 10 s timeout).
	Client *http.Client
	// TTL is how long an accepted cookie is remembered (default 30 s), so
	// that the panel's calls do not each cost a round trip to Jupyter;
	// a logout is noticed within it.
	TTL time.Duration
	// MaxCache bounds the remembered cookies (default 64).
	MaxCache int
}

// JupyterCookie authenticates by Jupyter's login cookie, for the panel
// reaching the sidecar through Jupyter's proxy (jupyter-server-proxy),
// where the browser sends Jupyter's cookies and cannot add a token header
// to a WebSocket. Only Jupyter can check its signed cookie, so this asks
// it, with the request's login cookies and its Host (Jupyter names the
// cookie after the host the browser used, and the proxy passes that Host
// on): GET {URL}/api/me, which also says who the user is, or on Jupyter
// Server 1.x, which lacks it, GET {URL}/api/status. Credentials are
// Ambient: the Server applies Jupyter's XSRF rule to them.
type JupyterCookie struct {
	me, status string
	client     *http.Client
	ttl        time.Duration
	max        int
	noMe       atomic.Bool // the server answered 404 for /api/me: a 1.x

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cookieEntry
}

type cookieEntry struct {
	user    string
	expires time.Time
}

var _ Authenticator = (*JupyterCookie)(nil)

// NewJupyterCookie returns a JupyterCookie for the Jupyter server at cfg.URL.
func NewJupyterCookie(cfg JupyterCookieConfig) (*JupyterCookie, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("jupyter cookie auth: URL %q: want http(s)://host[:port]/[base_url]", cfg.URL)
	}
	u.RawQuery, u.Fragment = "", ""
	base := strings.TrimSuffix(u.Path, "/")
	j := &JupyterCookie{client: cfg.Client, ttl: cfg.TTL, max: cfg.MaxCache,
		cache: map[[sha256.Size]byte]cookieEntry{}}
	u.Path = base + "/api/me"
	j.me = u.String()
	u.Path = base + "/api/status"
	j.status = u.String()
	if j.client == nil {
		j.client = &http.Client{Timeout: 10 * time.Second}
	}
	if j.ttl <= 0 {
		j.ttl = 30 * time.Second
	}
	if j.max <= 0 {
		j.max = 64
	}
	return j, nil
}

// jupyterLoginCookie is the prefix of Jupyter's login cookie's name
// ("username-127-0-0-1-8888").
const jupyterLoginCookie = "username-"

func (j *JupyterCookie) Authenticate(r *http.Request) (Credentials, error) {
	// Only the login cookies travel to Jupyter: the request may carry
	// other sites' cookies on the same host.
	var parts []string
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, jupyterLoginCookie) {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	if len(parts) == 0 {
		return Credentials{}, ErrNoCredentials
	}
	cookie := strings.Join(parts, "; ")
	key := sha256.Sum256([]byte(r.Host + "\x00" + cookie))
	now := time.Now()
	j.mu.Lock()
	e, ok := j.cache[key]
	j.mu.Unlock()
	if ok && now.Before(e.expires) {
		return Credentials{Scheme: "jupyter-cookie", User: e.user, Ambient: true}, nil
	}
	user, err := j.ask(r.Context(), r.Host, cookie)
	if err != nil {
		return Credentials{}, err
	}
	j.mu.Lock()
	for k, e := range j.cache { // expired first; then any, to stay bounded
		if now.After(e.expires) || len(j.cache) >= j.max {
			delete(j.cache, k)
		}
	}
	j.cache[key] = cookieEntry{user: user, expires: now.Add(j.ttl)}
	j.mu.Unlock()
	return Credentials{Scheme: "jupyter-cookie", User: user, Ambient: true}, nil
}

// ask asks Jupyter whom the cookie belongs to: a name, or "" where the
// server cannot say (1.x).
func (j *JupyterCookie) ask(ctx context.Context, host, cookie string) (string, error) {
	if !j.noMe.Load() {
		body, status, err := j.get(ctx, j.me, host, cookie)
		if err != nil {
			return "", err
		}
		if status != http.StatusNotFound {
			if err := loginStatus(j.me, status); err != nil {
				return "", err
			}
			var me struct {
				Identity struct {
					Username string `json:"username"`
				} `json:"identity"`
			}
			if err := json.Unmarshal(body, &me); err != nil {
				return "", fmt.Errorf("check the Jupyter login cookie: %s: %w", j.me, err)
			}
			return me.Identity.Username, nil
		}
		j.noMe.Store(true)
	}
	_, status, err := j.get(ctx, j.status, host, cookie)
	if err != nil {
		return "", err
	}
	return "", loginStatus(j.status, status)
}

func loginStatus(endpoint string, status int) error {
	switch status {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return errors.New("the Jupyter login cookie is not valid (log in to Jupyter again)")
	}
	return fmt.Errorf("check the Jupyter login cookie: %s answered %d %s", endpoint, status, http.StatusText(status))
}

func (j *JupyterCookie) get(ctx context.Context, endpoint, host, cookie string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Cookie", cookie)
	if host != "" {
		req.Host = host
	}
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("check the Jupyter login cookie: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("check the Jupyter login cookie: %w", err)
	}
	return body, resp.StatusCode, nil
}

// xsrfOK applies Jupyter's (Tornado's) XSRF rule: the value of the _xsrf
// cookie must come back in the X-XSRFToken (or X-CSRFToken) header, which
// a foreign page cannot read and so cannot send.
func xsrfOK(r *http.Request) bool {
	c, err := r.Cookie("_xsrf")
	if err != nil {
		return false
	}
	h := r.Header.Get("X-XSRFToken")
	if h == "" {
		h = r.Header.Get("X-CSRFToken")
	}
	a, b := xsrfToken(c.Value), xsrfToken(h)
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(a, b) == 1
}

// xsrfToken extracts the token from Tornado's XSRF formats, so that two
// differently masked copies of one token match, as Tornado matches them:
// version 2 is "2|mask|masked token|timestamp" in hex; anything else is
// version 1, the token itself.
func xsrfToken(v string) []byte {
	if strings.Contains(v, "%") {
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
	}
	if !strings.HasPrefix(v, "2|") {
		return []byte(v)
	}
	parts := strings.Split(v, "|")
	if len(parts) != 4 {
		return nil
	}
	mask, err1 := hex.DecodeString(parts[1])
	masked, err2 := hex.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(mask) == 0 {
		return nil
	}
	tok := make([]byte, len(masked))
	for i := range masked {
		tok[i] = masked[i] ^ mask[i%len(mask)]
	}
	return tok
}

// origins is the WebSocket Origin allow-list.
type origins map[string]bool

// newOrigins normalizes the configured origins: scheme://host[:port],
// nothing else, so that a typo is an error at startup rather than a
// client refused at run time.
func newOrigins(list []string) (origins, error) {
	o := origins{}
	for _, s := range list {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("allowed origin %q: want http(s)://host[:port]", s)
		}
		o[normOrigin(u.Scheme, u.Host)] = true
	}
	return o, nil
}

func normOrigin(scheme, host string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	host = strings.TrimSuffix(host, map[string]string{"http": ":80", "https": ":443"}[scheme])
	return scheme + "://" + host
}

// allowed reports whether a request's Origin may talk to the server: no
// Origin (not a browser), the server's own origin, or a configured one. A
// browser sends Origin on every WebSocket handshake and cross-site POST, so
// this is what stops a page on another site from driving the sidecar with
// the user's cookies.
func (o origins) allowed(r *http.Request) bool {
	h, ok := r.Header["Origin"]
	if !ok || len(h) == 0 {
		return true
	}
	u, err := url.Parse(h[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false // including "null", from sandboxed frames and files
	}
	origin := normOrigin(u.Scheme, u.Host)
	if o[origin] {
		return true
	}
	// The same origin: the page came from the host this request is for.
	// Behind Jupyter's proxy this is Jupyter's, since the proxy passes the
	// browser's Host on. Only for a host that is an IP address or
	// localhost: a name could be a DNS-rebinding page's own (evil.example
	// resolving to 127.0.0.1 makes Origin and Host agree); other names
	// must be allowed by configuration, as Jupyter requires.
	return origin == normOrigin(u.Scheme, r.Host) && literalHost(r.Host)
}

// literalHost reports whether hostport names this machine by address or as
// localhost, which no other site's page can claim through DNS.
func literalHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}
