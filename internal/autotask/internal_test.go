package autotask

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCredentialsAllowed(t *testing.T) {
	const ws = "http://127.0.0.1:41234"
	tests := []struct {
		url  string
		want bool
	}{
		{"https://webservices5.autotask.net/ATServicesRest/", true},
		{"https://WebServices15.AutoTask.net/ATServicesRest/", true},
		{"https://autotask.net/", true},
		{"https://webservices5.autotask.net.:443/", true},
		{"http://webservices5.autotask.net/ATServicesRest/", false},
		{"https://evilautotask.net/", false},
		{"https://webservices5.autotask.net.evil.example/", false},
		{"https://autotask.net@evil.example/", false},
		{"https://user:pw@webservices5.autotask.net/", false},
		{"http://127.0.0.1:41234/ATServicesRest/", true},
		{"http://127.0.0.1:41235/ATServicesRest/", false},
		{"https://127.0.0.1:41234/ATServicesRest/", false},
		{"http://localhost:41234/", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			wsu, err := normalizeWebServer(ws)
			require.NoError(t, err)
			require.Equal(t, tt.want, credentialsAllowed(u, hostKey(wsu)))
		})
	}
	// A custom https web server is trusted exactly, default port or not.
	wsu, err := normalizeWebServer("https://proxy.example.com/atservicesrest/")
	require.NoError(t, err)
	u, _ := url.Parse("https://proxy.example.com:443/ATServicesRest/")
	require.True(t, credentialsAllowed(u, hostKey(wsu)))
}

func TestNormalizeWebServer(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"", "https://webservices2.autotask.net", ""},
		{"webservices2.autotask.net", "https://webservices2.autotask.net", ""},
		{"https://webservices2.autotask.net/", "https://webservices2.autotask.net", ""},
		{"https://webservices2.autotask.net/ATServicesRest", "https://webservices2.autotask.net", ""},
		{"https://webservices2.autotask.net/atservicesrest/?x=1", "https://webservices2.autotask.net", ""},
		{"http://127.0.0.1:9999", "http://127.0.0.1:9999", ""},
		{"ftp://x", "", "scheme"},
		{"https://u:p@x", "", "user info"},
	}
	for _, tt := range tests {
		u, err := normalizeWebServer(tt.in)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, u.String())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"5", 5 * time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(timeFormatHTTP), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(timeFormatHTTP), 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		require.Equal(t, tt.ok, ok, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

const timeFormatHTTP = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestFlexInt(t *testing.T) {
	for in, want := range map[string]int64{`12`: 12, `"12"`: 12, `null`: 0, `""`: 0, `12.0`: 12, `29682833`: 29682833} {
		var f flexInt
		require.NoError(t, f.UnmarshalJSON([]byte(in)), in)
		require.Equal(t, want, int64(f), in)
	}
}
