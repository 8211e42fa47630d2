package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzVerifySignature feeds arbitrary headers, timestamps and bodies to
// VerifySignature: it must not panic, must never accept a signature made with
// another secret, and must accept the right signature of a fresh timestamp.
func FuzzVerifySignature(f *testing.F) {
	f.Add("sha256=00", "1800000000", []byte(`{"id":"x"}`))
	f.Add("", "", []byte{})
	f.Add("sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163", "1700000000", []byte("{}"))
	f.Add("sha256=ZZ", "-1", []byte("\x00\xff"))
	f.Add("sha256="+string(make([]byte, 64)), "999999999999999999", []byte("a.b"))
	f.Add("SHA256=ab", "0", []byte("."))

	secret := []byte("the receiver's secret")
	other := []byte("somebody else's secret")
	now := time.Unix(1_800_000_000, 0)

	f.Fuzz(func(t *testing.T, header, timestamp string, body []byte) {
		// Arbitrary input: any answer but a panic is fine, and it verifies
		// only if it is the right signature.
		if err := VerifySignature(secret, header, timestamp, body, now, time.Hour); err == nil {
			h := strings.TrimSpace(header)
			require.Equal(t, Sign(secret, timestamp, body), "sha256="+lowerHex(h[len(h)-64:]))
		}

		ts, perr := parseTimestamp(timestamp)
		fresh := now
		if perr == nil {
			fresh = time.Unix(ts, 0)
		}
		// Signed with another secret: never verifies.
		require.Error(t, VerifySignature(secret, Sign(other, timestamp, body), timestamp, body, fresh, time.Minute))
		// Signed with the right secret: verifies exactly when the timestamp is valid.
		err := VerifySignature(secret, Sign(secret, timestamp, body), timestamp, body, fresh, time.Minute)
		if perr == nil {
			require.NoError(t, err)
			// ... and only for this body.
			require.Error(t, VerifySignature(secret, Sign(secret, timestamp, body), timestamp, append(body, 'x'), fresh, time.Minute))
		} else {
			require.ErrorIs(t, err, ErrTimestampInvalid)
		}
	})
}

func lowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
