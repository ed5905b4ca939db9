// Package plural spells a count with its noun, plural only when needed:
// "1 object", "2 objects", "0 objects".
package plural

import "strconv"

// Count is n and the noun: one when n is 1, many otherwise.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
