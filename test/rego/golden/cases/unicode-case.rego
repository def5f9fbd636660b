# lower/upper map every Unicode letter, as Go's strings.ToLower/ToUpper do.
# known-failure: lower/upper change only ASCII letters
# entrypoint: golden/ucase/out
package golden.ucase

out := [lower("ÄB"), upper("straße"), lower("ΣΑΣ")]
