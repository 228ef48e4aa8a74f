package onboard

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func gvr(group, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}
}

func fmtV(c Credential) string { return fmt.Sprintf("%v %+v %#v %s", c, c, c, c) }

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestExpiry(t *testing.T) {
	tests := map[string]struct {
		token  string
		want   time.Time
		wantOK bool
	}{
		"legacy secret token": {token: jwt(`{"iss":"kubernetes/serviceaccount"}`), wantOK: true},
		"bound token":         {token: jwt(`{"exp":1767225600}`), want: time.Unix(1767225600, 0), wantOK: true},
		"static token":        {token: "abcdef", wantOK: false},
		"not base64 payload":  {token: "a.!!!.c", wantOK: false},
		"exp is not a number": {token: jwt(`{"exp":"soon"}`), wantOK: false},
		"payload is not JSON": {token: "a." + base64.RawURLEncoding.EncodeToString([]byte("x")) + ".c", wantOK: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Expiry(tc.token)
			if ok != tc.wantOK || !got.Equal(tc.want) {
				t.Fatalf("Expiry = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseRBAC(t *testing.T) {
	tests := map[string]struct {
		in, want string
		err      bool
	}{
		"cluster-admin":   {in: "cluster-admin", want: "cluster-admin"},
		"namespaced":      {in: "namespaced:web, api,web", want: "namespaced:api,web"},
		"empty namespace": {in: "namespaced:", err: true},
		"not a label":     {in: "namespaced:Web", err: true},
		"mcp's own":       {in: "namespaced:mcp-system", err: true},
		"unknown":         {in: "admin", err: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseRBAC(tc.in)
			if (err != nil) != tc.err || (err == nil && got.String() != tc.want) {
				t.Fatalf("ParseRBAC(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}
