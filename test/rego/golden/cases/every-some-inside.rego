# Regression (conformance opa/every/textbook.yaml#4): one element failing the body makes
# `every` false; here "nginx" matches no allowed prefix, so p is undefined.
# entrypoint: golden/every_some/p
# entrypoint: golden/every_some/q
# input: {"containers": [{"image": "hooli.com/x"}, {"image": "nginx"}]}
package golden.every_some

allowed_repos := {"hooli.com/", "acmecorp.net/"}

p if {
	every c in input.containers {
		some repo in allowed_repos
		startswith(c.image, repo)
	}
}

q if {
	every c in input.containers {
		startswith(c.image, "hooli.com/")
	}
}
