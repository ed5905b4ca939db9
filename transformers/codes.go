package transformers

// Finding codes. Each finding graceful render emits has one: the summary,
// the KRM results, check's JSON and SARIF, and the docs name it the same way,
// so a code never changes meaning. render owns GS001-GS199 and --pdb's GS4xx: GS0xx are about
// the run, the profile's selection and the containers; GS1xx about the pod's
// changes; GS15x about load balancer Services.
const (
	CodeNoDocuments      = "GS001"
	CodeNoProfile        = "GS002"
	CodeNoWorkloads      = "GS003"
	CodeUndrainedService = "GS004"
	CodeProfilesSkipped  = "GS005"

	CodeHelmHook          = "GS010"
	CodeAutoNoFit         = "GS011"
	CodeAutoAmbiguous     = "GS012"
	CodeAutoNoContainer   = "GS013"
	CodeUnknownAnnotation = "GS014"
	CodeKindProfile       = "GS015"

	CodeNoContainer     = "GS020"
	CodeNoImageSignal   = "GS021"
	CodeServingFallback = "GS022"
	CodeUnsafeContainer = "GS023"
	CodeUndelayedPeers  = "GS024"
	CodeProfileNote     = "GS025"
	CodeSharedAnchor    = "GS026"
	CodeStopOrder       = "GS027"

	CodePreStopSet    = "GS101"
	CodeGraceSet      = "GS102"
	CodeStopSignalSet = "GS103"
	CodeOSLinuxSet    = "GS104"
	CodeEnvSet        = "GS105"
	CodeMeshDrainSet  = "GS106"

	CodePreStopKept         = "GS110"
	CodeStopSignalKept      = "GS111"
	CodeStopSignalShell     = "GS112"
	CodeStopSignalOS        = "GS113"
	CodeGraceShort          = "GS114"
	CodeGraceBelowDefault   = "GS115"
	CodeEnvKept             = "GS116"
	CodeForbiddenStopSignal = "GS117"
	CodeForbiddenHookSignal = "GS118"
	CodeMeshUnreadable      = "GS119"
	CodeMeshKept            = "GS120"
	CodeDelayOnly           = "GS121"
	CodeShellPID1           = "GS122"
	CodeShellless           = "GS123"
	CodeUserDrain           = "GS124"
	CodeUnreadableDrain     = "GS125"
	CodeNoReadinessProbe    = "GS126"
	CodeGraceDefault        = "GS127"
	CodeHookDelayAbsurd     = "GS128"
	CodeNotKnownKind        = "GS129"

	CodeLBDrainSet        = "GS150"
	CodeLBUnsupported     = "GS151"
	CodeLBLegacyKept      = "GS152"
	CodeLBEnableKept      = "GS153"
	CodeLBRequires        = "GS154"
	CodeLBOtherClass      = "GS155"
	CodeLBOtherController = "GS156"
	CodeLBNoSelector      = "GS157"
	CodeLBNoDrainProfile  = "GS158"
	CodeLBNoProfiledPods  = "GS159"

	// render --pdb (GS4xx).
	CodePDBAdded     = "GS401"
	CodePDBPresent   = "GS402"
	CodePDBName      = "GS403"
	CodePDBOverlap   = "GS404"
	CodePDBUnknown   = "GS405"
	CodePDBDaemonSet = "GS406"
	CodePDBSingle    = "GS407"
	CodePDBHelmHook  = "GS408"
	CodePDBJSON      = "GS409"
)

// CodeInfo describes a finding code for the docs and for tools that list them.
type CodeInfo struct {
	Code  string
	Title string
	// Meaning says in one line what the finding tells the user.
	Meaning string
}

// Codes lists every code render emits, in order. A test keeps it and the
// code in step both ways.
var Codes = []CodeInfo{
	{CodeNoDocuments, "no documents", "the input holds no objects"},
	{CodeNoProfile, "no profile selected", "no workload selected a profile (no --profile, rule or annotation fits), so nothing changed"},
	{CodeNoWorkloads, "no workloads", "the input holds objects but none that runs pods"},
	{CodeUndrainedService, "load balancer not drained", "a LoadBalancer Service selects a profiled workload, but no --provider says how to drain it"},
	{CodeProfilesSkipped, "profile directory: other kinds skipped", "a --profiles or spec.profiles directory holds documents that are not ShutdownProfiles (a kustomization.yaml); they were skipped"},

	{CodeHelmHook, "Helm hook left alone", "--profile does not apply to Helm hooks; an annotation or rule can"},
	{CodeAutoNoFit, "auto: no profile fits", "--profile auto found no profile whose images fit the workload's"},
	{CodeAutoAmbiguous, "auto: several profiles fit", "--profile auto left the workload alone: its containers fit different profiles, or one container's image fits several"},
	{CodeAutoNoContainer, "auto: named container missing", "--profile auto was told a container name the workload does not have"},
	{CodeUnknownAnnotation, "unknown graceful.dev annotation", "a graceful.dev/ annotation graceful does not read, probably misspelt"},
	{CodeKindProfile, "profile not for this kind", "an operator's CR (TidbCluster) takes only its own program's profile; left unchanged"},

	{CodeNoContainer, "no container by that name", "a rule or graceful.dev/container names a container the workload does not have; left unchanged"},
	{CodeNoImageSignal, "no image fits a signalling profile", "the profile's hook signals PID 1 and no image fits it, so no container was changed"},
	{CodeServingFallback, "profile applied to serving containers", "no image fits the profile; it went on the containers that declare a port"},
	{CodeUnsafeContainer, "container unsafe for the profile", "the container's command makes the profile unsafe (e.g. node under npm); left unchanged"},
	{CodeUndelayedPeers, "other serving containers not delayed", "other containers of the pod serve traffic and stop at once while the chosen ones drain"},
	{CodeProfileNote, "profile note", "what the profile's author says every user of it should know"},
	{CodeSharedAnchor, "shared YAML anchor", "an edit would go through a YAML anchor used elsewhere; the object was left unchanged"},
	{CodeStopOrder, "stop order ignored", "graceful.dev/stop-after or a rule's stopAfter names a container the pod lacks or graceful does not change, forms a cycle, or follows a hook graceful cannot time"},

	{CodePreStopSet, "preStop hook set", "a preStop hook delays the stop signal until endpoints and load balancers have let the pod go"},
	{CodeGraceSet, "grace period set or raised", "terminationGracePeriodSeconds covers the delay, the drain and the headroom"},
	{CodeStopSignalSet, "stop signal set", "lifecycle.stopSignal gives the profile's signal (--stop-signal-field)"},
	{CodeOSLinuxSet, "pod OS set to linux", "lifecycle.stopSignal requires spec.os.name"},
	{CodeEnvSet, "environment variable set", "an environment variable switches on the application's own graceful shutdown"},
	{CodeMeshDrainSet, "Istio sidecar drain set", "the Istio sidecar stays for the application's delay and drain"},

	{CodePreStopKept, "existing preStop hook kept", "the container has its own preStop hook; --replace-prestop replaces it"},
	{CodeStopSignalKept, "existing stop signal kept", "the container's lifecycle.stopSignal differs from the profile's; kept"},
	{CodeStopSignalShell, "stop signal reaches a shell", "the stop signal set goes to a shell at PID 1, not the application"},
	{CodeStopSignalOS, "stop signal not allowed on the pod's OS", "the pod's OS allows only SIGTERM and SIGKILL; no stop signal set"},
	{CodeGraceShort, "grace period too short", "the grace period does not cover delay + drain: the kubelet kills the application mid-drain"},
	{CodeGraceBelowDefault, "grace period below the default", "a rule's grace period is below Kubernetes' 30 s, which applied before"},
	{CodeEnvKept, "user's setting kept", "the user set what the profile would set, differently; kept"},
	{CodeForbiddenStopSignal, "forbidden stop signal", "the container stops with a signal that kills this application abruptly"},
	{CodeForbiddenHookSignal, "hook sends a forbidden signal", "the preStop hook sends a signal that kills this application abruptly"},
	{CodeMeshUnreadable, "Istio proxy config unreadable", "the proxy.istio.io/config annotation is not a YAML mapping; left alone"},
	{CodeMeshKept, "Istio drain kept", "the user's sidecar drain is shorter than the application needs; kept"},
	{CodeDelayOnly, "delay without the stop signal", "PID 1 is not the application, so the hook only waits and sends no signal"},
	{CodeShellPID1, "shell is PID 1", "the container's command is a shell that does not exec the program: the stop signal misses the application"},
	{CodeShellless, "exec hook on a shell-less image", "the image looks distroless: an exec preStop hook fails there"},
	{CodeUserDrain, "user's drain time used", "the container sets its own drain time; the grace period is budgeted around it"},
	{CodeUnreadableDrain, "user's drain time unreadable", "graceful cannot read the drain time the user set; the profile's is budgeted"},
	{CodeNoReadinessProbe, "no readiness probe", "new pods get traffic before they are ready"},
	{CodeGraceDefault, "default grace period covers", "the pod sets no grace period and Kubernetes' default (30 s) covers the budget, so none is written"},
	{CodeHookDelayAbsurd, "kept hook's delay absurd", "a kept preStop hook waits longer than any sane grace period (over a day); the grace period was left as the manifest has it"},
	{CodeNotKnownKind, "not Kubernetes' kind", "a kind named as one of Kubernetes' (Deployment, Service) in another API group is a CRD whose fields graceful cannot know; left alone unless its annotation names a profile"},

	{CodeLBDrainSet, "load balancer drain set", "the cloud's drain annotations keep deregistered pods' connections open to the end"},
	{CodeLBUnsupported, "provider has no drain annotation", "the provider drains by other means, which graceful does not write"},
	{CodeLBLegacyKept, "legacy drain annotation kept", "the Service has the provider's legacy drain key; nothing added"},
	{CodeLBEnableKept, "user's drain switch kept", "the Service switches the provider's drain off or differently; kept"},
	{CodeLBRequires, "drain needs another annotation", "the provider drains only with an annotation graceful does not set"},
	{CodeLBOtherClass, "another load balancer class", "the Service's loadBalancerClass belongs to another controller; left unchanged"},
	{CodeLBOtherController, "another controller", "the Service's type annotation says another controller manages it, or graceful cannot tell; left unchanged"},
	{CodeLBNoSelector, "Service without selector", "graceful cannot tell which pods the Service serves; no drain annotations"},
	{CodeLBNoDrainProfile, "pods take no load balancer drain", "the Service's pods run a profile that takes no load balancer drain (a database, a worker)"},
	{CodeLBNoProfiledPods, "no profiled pods behind the Service", "the Service selects no workload a profile applies to in this input"},

	{CodePDBAdded, "PodDisruptionBudget added", "render --pdb added a budget (maxUnavailable: 1) after the workload, so a node drain evicts its pods one at a time"},
	{CodePDBPresent, "PodDisruptionBudget present", "a budget of the input selects the workload's pods already; none added"},
	{CodePDBName, "budget name taken", "the name <workload>-graceful is taken by a budget that does not select these pods; none added"},
	{CodePDBOverlap, "budget would select other pods", "the workload's selector also selects another workload's pods; none added"},
	{CodePDBUnknown, "replicas or selector unreadable", "graceful cannot read the replicas or the selector (a template); none added"},
	{CodePDBDaemonSet, "DaemonSet takes no budget", "kubectl drain leaves DaemonSet pods running, so a budget would hold nothing"},
	{CodePDBSingle, "one replica", "a workload of one replica gets no budget: maxUnavailable 1 would hold nothing, minAvailable 1 would block every drain"},
	{CodePDBHelmHook, "Helm hook", "a Helm hook gets no budget: the budget would outlive it"},
	{CodePDBJSON, "JSON document", "no budget is added after a JSON document: its file would no longer be JSON; add one elsewhere"},
}
