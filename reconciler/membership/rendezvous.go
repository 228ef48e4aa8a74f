package membership

import (
	"crypto/sha256"
	"encoding/binary"
)

// Owner returns the member that owns key by rendezvous hashing: the member
// with the highest weight(member, key). Every replica that sees the same
// members computes the same owner without talking to the others, and when a
// member leaves only the keys it owned move (each to its runner-up). It
// returns "" when there are no members.
func Owner(members []string, key string) string {
	var best string
	var bestWeight uint64
	for _, m := range members {
		w := weight(m, key)
		// Ties (astronomically unlikely) go to the smaller name, so the
		// answer never depends on the order of members.
		if best == "" || w > bestWeight || (w == bestWeight && m < best) {
			best, bestWeight = m, w
		}
	}
	return best
}

// weight is a well-mixed 64-bit hash of the pair. SHA-256 rather than FNV:
// member names differ in a suffix only (mcp-0, mcp-1), and FNV's weak
// avalanche would then skew the balance.
func weight(member, key string) uint64 {
	h := sha256.New()
	h.Write([]byte(member))
	h.Write([]byte{0}) // so that ("ab","c") and ("a","bc") differ
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}
