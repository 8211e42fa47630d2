package autotask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// zone is the answer of zoneInformation: where this user's database lives.
type zone struct {
	name   string
	url    string // REST base ending in "/", e.g. https://webservices5.autotask.net/ATServicesRest/
	webURL string // UI base ending in "/" ("" when unusable)
}

// zone returns the cached zone of the source, looking it up when missing or older than a day.
func (c *Client) zone(ctx context.Context, st *sourceState) (*zone, error) {
	st.mu.Lock()
	z, at := st.zone, st.zoneAt
	st.mu.Unlock()
	if z != nil && c.now().Sub(at) < zoneTTL {
		return z, nil
	}
	return shared(ctx, &st.sf, "zone", func(ctx context.Context) (*zone, error) {
		z, err := c.lookupZone(ctx, st)
		if err != nil {
			return nil, err
		}
		st.mu.Lock()
		st.zone, st.zoneAt = z, c.now()
		st.mu.Unlock()
		return z, nil
	})
}

// dropZone forgets z if it is still the cached zone (so that concurrent 401s
// cause one lookup, not one each).
func (st *sourceState) dropZone(z *zone) {
	st.mu.Lock()
	if st.zone == z {
		st.zone = nil
	}
	st.mu.Unlock()
}

func (c *Client) lookupZone(ctx context.Context, st *sourceState) (*zone, error) {
	u := st.webServer + "/atservicesrest/v1.0/zoneInformation?user=" + url.QueryEscape(st.src.Username)
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, &opError{class: ErrUnavailable, op: "zone lookup", cause: err}
	}
	req.Header.Set("Accept", "application/json")
	status, hdr, body, err := c.do(ctx, req, st.sem("zoneInformation"), "zoneInformation")
	if err != nil {
		return nil, withOp("zone lookup", err)
	}
	if status != http.StatusOK {
		apiErr := newAPIError(http.MethodGet, "zoneInformation", status, hdr, body, st.src.Secret)
		class := ErrUnavailable
		msg := ""
		switch {
		case status == http.StatusNotFound || status == http.StatusUnauthorized || status == http.StatusForbidden:
			class, msg = ErrUnauthorized, "Autotask does not know API user "+fmt.Sprintf("%q", st.src.Username)
		case status < 500 && status != http.StatusTooManyRequests:
			// 400 and friends: most likely a web server that is not Autotask's.
			msg = "unexpected answer; is the web server right?"
		}
		return nil, &opError{class: class, op: "zone lookup", msg: msg, cause: apiErr}
	}
	var zr struct {
		ZoneName string `json:"zoneName"`
		URL      string `json:"url"`
		WebURL   string `json:"webUrl"`
	}
	if err := json.Unmarshal(body, &zr); err != nil {
		return nil, &opError{class: ErrUnavailable, op: "zone lookup", msg: "decode answer", cause: err}
	}
	if strings.TrimSpace(zr.URL) == "" {
		return nil, &opError{class: ErrUnauthorized, op: "zone lookup", msg: fmt.Sprintf("no zone for API user %q", st.src.Username)}
	}
	ru, err := url.Parse(strings.TrimSpace(zr.URL))
	if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") || ru.Host == "" {
		return nil, &opError{class: ErrUnavailable, op: "zone lookup", msg: fmt.Sprintf("unusable zone url %q", zr.URL)}
	}
	if !credentialsAllowed(ru, st.webServerHostKey) {
		c.log.Warn("autotask: zone points at a host that may not receive credentials", "source", st.src.ID, "host", ru.Host)
		return nil, &opError{class: ErrForbiddenHost, op: "zone lookup", msg: fmt.Sprintf("zone url %s://%s is neither an https autotask.net host nor the configured web server; not sending credentials there", ru.Scheme, ru.Host)}
	}
	ru.RawQuery, ru.Fragment = "", ""
	z := &zone{name: zr.ZoneName, url: ru.String()}
	if !strings.HasSuffix(z.url, "/") {
		z.url += "/"
	}
	if wu, err := url.Parse(strings.TrimSpace(zr.WebURL)); err == nil && (wu.Scheme == "https" || wu.Scheme == "http") && wu.Host != "" {
		wu.RawQuery, wu.Fragment = "", ""
		z.webURL = wu.String()
		if !strings.HasSuffix(z.webURL, "/") {
			z.webURL += "/"
		}
	}
	c.log.Debug("autotask zone", "source", st.src.ID, "zone", z.name, "url", z.url)
	return z, nil
}

// normalizeWebServer turns a configured web server into scheme://host[:port][/prefix]
// without a trailing slash or a trailing "/atservicesrest".
func normalizeWebServer(ws string) (*url.URL, error) {
	ws = strings.TrimSpace(ws)
	if ws == "" {
		ws = DefaultWebServer
	}
	if !strings.Contains(ws, "://") {
		ws = "https://" + ws
	}
	u, err := url.Parse(ws)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, errors.New("scheme must be https or http")
	}
	if u.Host == "" {
		return nil, errors.New("no host")
	}
	if u.User != nil {
		return nil, errors.New("must not hold user info")
	}
	p := strings.TrimRight(u.Path, "/")
	if strings.HasSuffix(strings.ToLower(p), "/atservicesrest") {
		p = p[:len(p)-len("/atservicesrest")]
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: p}, nil
}

// hostKey is scheme://host:port in lower case, without a default port.
func hostKey(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if (scheme == "https" && strings.HasSuffix(host, ":443")) || (scheme == "http" && strings.HasSuffix(host, ":80")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return scheme + "://" + host
}

// credentialsAllowed: credentials go only to https autotask.net hosts, or to
// exactly the configured web server (same scheme, host and port).
func credentialsAllowed(u *url.URL, webServerKey string) bool {
	if u.User != nil {
		return false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if u.Scheme == "https" && (h == "autotask.net" || strings.HasSuffix(h, ".autotask.net")) {
		return true
	}
	return webServerKey != "" && hostKey(u) == webServerKey
}

var errRedirect = errors.New("refusing to follow a redirect to another host with credentials")

// safeRedirect refuses redirects that would carry credentials to another
// origin (Go's client copies custom headers such as Secret on redirects).
func safeRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.Header.Get("Secret") != "" || via[0].Header.Get("Secret") != "" {
			if hostKey(req.URL) != hostKey(via[0].URL) {
				req.Header.Del("Secret")
				req.Header.Del("UserName")
				req.Header.Del("ApiIntegrationCode")
				return fmt.Errorf("%w (%s://%s)", errRedirect, req.URL.Scheme, req.URL.Host)
			}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}
