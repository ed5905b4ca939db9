package audit

import "github.com/graceful-dev/graceful/transformers"

// Rule is one check: its stable code (shared by the text, JSON, SARIF and
// KRM outputs and the README), what it finds, and why that drops requests.
type Rule struct {
	Code string
	// Short is the one-line description; Full says why it drops requests.
	Short, Full string
	// Level is the most severe its findings are (the README's table); a
	// finding may be milder where the manifest leaves doubt (say "may") or
	// the harm is smaller.
	Level transformers.Severity
}

// Rules is every check, by code. graceful check owns GS201–GS299.
var Rules = []Rule{
	{"GS201", "A serving container has no preStop delay",
		"Kubernetes removes a stopping pod from Services and load balancers at the same time as it stops the container; without a preStop delay the container stops while kube-proxy, ingress controllers and load balancers still send it requests, which are refused.",
		transformers.Warning},
	{"GS202", "The grace period does not cover the preStop delay and the application's drain",
		"The kubelet counts the preStop hook against terminationGracePeriodSeconds (default 30 s) and kills the container when it runs out: requests still in flight are cut.",
		transformers.Warning},
	{"GS203", "A load balancer Service has no connection drain for the provider, or one shorter than its pods serve",
		"Without the provider's drain annotations, or with a drain that is off or ends before the pod has finished (explain's GS301), the cloud load balancer cuts the connections to a deregistered target instead of letting them finish.",
		transformers.Warning},
	{"GS204", "A load balancer Service has drain annotations its controller rejects or ignores",
		"A value out of the controller's range, an attribute the controller refuses, or a missing prerequisite leaves the load balancer without its drain (warning), or stops the controller from updating it (error).",
		transformers.Error},
	{"GS205", "An exec hook runs a shell or tool on an image that has none",
		"Distroless and similar images have no /bin/sh, sleep or kill: the exec hook fails at once, so the delay or signal it was meant to give never happens.",
		transformers.Warning},
	{"GS206", "A preStop sleep action the target Kubernetes does not have",
		"lifecycle.preStop.sleep is on by default from Kubernetes 1.30 (and 0 seconds only from 1.33); an older API server rejects or drops it, and the pod has no delay.",
		transformers.Error},
	{"GS207", "A hook signals or waits for PID 1 in a pod that shares its process namespace",
		"With shareProcessNamespace: true, PID 1 is the pause process: a signal to PID 1 misses the application, and a wait for PID 1 to exit lasts the whole grace period.",
		transformers.Error},
	{"GS208", "An nginx quit in the preStop hook does not wait for nginx to exit",
		"`nginx -s quit` or `kill -QUIT 1` returns at once; the kubelet then sends the image's stop signal, and SIGTERM turns nginx's graceful quit into a fast stop that cuts requests in flight.",
		transformers.Warning},
	{"GS209", "A serving container has no readiness probe",
		"Without a readiness probe a new pod gets traffic as soon as its container starts, before the application can serve: a rolling update drops requests at its start.",
		transformers.Warning},
	{"GS210", "An Istio sidecar leaves before the application's preStop delay has passed",
		"A classic Istio sidecar gets SIGTERM with the application and exits after its terminationDrainDuration (5 s by default); an application still waiting or draining then loses its inbound and outbound connections.",
		transformers.Warning},
	{"GS211", "The provider's drain annotations do not apply to this load balancer",
		"The Service belongs to a controller that does not read the provider's drain annotations; its drain must be set by that controller's own means.",
		transformers.Info},
	{"GS212", "The profile cannot be made safe from the manifest alone",
		"The container's command keeps the stop signal from the application (node started through npm start), or it sets the application's shutdown otherwise than the profile needs: render leaves it as it is, and the application stops abruptly until the command or setting is changed as the message says.",
		transformers.Warning},
	{"GS213", "The application gets a signal that stops it fast",
		"The profile's application stops gracefully on one signal: another (the image's STOPSIGNAL, lifecycle.stopSignal, the kubelet's SIGTERM after a hook that did not wait for the exit) makes it stop at once and cut requests in flight.",
		transformers.Warning},
	{"GS214", "A workload of several replicas has no PodDisruptionBudget",
		"kubectl drain and the cluster autoscaler evict through the eviction API, which only a PodDisruptionBudget holds back: without one, a node drain may evict every replica at once, and the Service has no pod left to take requests while the new ones start.",
		transformers.Warning},
	{"GS215", "An object named as a kind graceful knows, in another API group, is left alone",
		"A CRD's kind of the same name as Kubernetes' (example.com/v1 Deployment) need not mean by its fields what Kubernetes' kind does, and the API server defaults none of them: render leaves it alone (its GS129), so its pods, if it runs any, keep the shutdown they have until its annotation names a profile.",
		transformers.Info},
}

// RuleFor returns the rule of a code.
func RuleFor(code string) (Rule, bool) {
	for _, r := range Rules {
		if r.Code == code {
			return r, true
		}
	}
	return Rule{}, false
}
