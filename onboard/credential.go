package onboard

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// Credential is what reaches a cluster as mcp's ServiceAccount: the
// server, how to trust it, and the token. Nothing else of the operator's
// kubeconfig (no exec plugin, no client certificate) is carried over.
type Credential struct {
	Server        string
	CAData        []byte
	TLSServerName string
	Token         string
}

// String never shows the token, so that a Credential printed by mistake
// gives nothing away.
func (c Credential) String() string {
	return fmt.Sprintf("credential for %s (token redacted)", c.Server)
}

// GoString is String, for %#v.
func (c Credential) GoString() string { return c.String() }

// credentialOf takes the server and its trust from the operator's config.
func credentialOf(cfg *rest.Config) Credential {
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		ca, _ = os.ReadFile(cfg.CAFile) // unreadable: the request above would have failed
	}
	return Credential{Server: cfg.Host, CAData: ca, TLSServerName: cfg.ServerName}
}

// Kubeconfig is a kubeconfig of one context, named name, that reaches the
// cluster with the token: the file mcp reads from its credentials
// directory.
func (c Credential) Kubeconfig(name string) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{
		Server: c.Server, CertificateAuthorityData: c.CAData, TLSServerName: c.TLSServerName,
	}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: c.Token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}

// SecretManifest is a Secret holding the kubeconfig under the key name,
// for the credentials volume of mcp's pod.
func (c Credential) SecretManifest(name, secretName, namespace string) ([]byte, error) {
	kc, err := c.Kubeconfig(name)
	if err != nil {
		return nil, err
	}
	s := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"name": secretName, "namespace": namespace},
		"type":       "Opaque",
		// data, not stringData: applied server-side with a field manager
		// of its own, the key joins the Secret's others.
		"data": map[string]any{name: base64.StdEncoding.EncodeToString(kc)},
	}
	return yaml.Marshal(s)
}

// Expiry is when a bearer token stops working: the exp claim of a JWT;
// zero with ok true for a JWT without one (a ServiceAccount token of a
// Secret, which lives as long as the Secret); ok false when the token is
// not a JWT and only the server knows.
func Expiry(token string) (exp time.Time, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, false
	}
	if claims.Exp == nil {
		return time.Time{}, true
	}
	sec, err := claims.Exp.Int64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}
