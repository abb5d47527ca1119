// csbroker drives CrowdSec's own notification broker (csplugin.PluginBroker
// from Debian's golang-github-crowdsecurity-crowdsec-dev, CrowdSec 1.4.6)
// the way the crowdsec daemon does (cmd/crowdsec/api.go, serve.go and the
// local API's alert controller): Init with a plugin_config, profiles and
// config_paths (which runs CrowdSec's ownership and permission checks on
// every plugin binary, starts each plugin through go-plugin as
// plugin_config's user and group, and sends each notification config with
// Configure), Run, then local alerts evaluated against the profiles and
// pushed to PluginChannel, then the plugin tomb killed on shutdown.
//
// It then checks what only the plugin's side can show: every notification
// arrived in the config's output_file byte for byte (the text CrowdSec's
// template makes, then "\n"), and go-plugin saw the plugin exit by itself,
// with status 0, after its Shutdown. Exit status 0 when all of that holds.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"github.com/crowdsecurity/crowdsec/pkg/csconfig"
	"github.com/crowdsecurity/crowdsec/pkg/csplugin"
	"github.com/crowdsecurity/crowdsec/pkg/csprofiles"
	"github.com/crowdsecurity/crowdsec/pkg/models"
	"github.com/crowdsecurity/crowdsec/pkg/types"
	log "github.com/sirupsen/logrus"
	"gopkg.in/tomb.v2"
)

// started is the broker once its plugins run: a failure still stops them,
// so no plugin outlives the test.
var started *csplugin.PluginBroker

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "csbroker: FAIL: "+format+"\n", args...)
	if started != nil {
		started.Kill()
	}
	os.Exit(1)
}

func strp(s string) *string { return &s }
func i32p(i int32) *int32   { return &i }
func boolp(b bool) *bool    { return &b }

// localAlert is what a crowdsec agent posts for an ssh brute force from
// one IP (scenario crowdsecurity/ssh-bf), before the profiles add decisions.
func localAlert(ip string, message string) *models.Alert {
	now := time.Now().UTC().Format(time.RFC3339)
	return &models.Alert{
		Capacity:        i32p(5),
		EventsCount:     i32p(6),
		Events:          []*models.Event{},
		Leakspeed:       strp("10s"),
		Message:         strp(message),
		Remediation:     true,
		Scenario:        strp("crowdsecurity/ssh-bf"),
		ScenarioHash:    strp("4441dcff07020f6690d998b7101e642359ba405c2abb83565bbbdcee36de280f"),
		ScenarioVersion: strp("0.1"),
		Simulated:       boolp(false),
		Source: &models.Source{
			AsName: "TEST-NET-1", Cn: "ZZ", IP: ip, Range: ip + "/32",
			Scope: strp("Ip"), Value: strp(ip),
		},
		StartAt:   strp(now),
		StopAt:    strp(now),
		MachineID: "local-agent",
	}
}

// render is csplugin's formatAlerts: the config's format, a Go template
// with sprig's functions, over the batch of alerts.
func render(format string, alerts []*models.Alert) string {
	t, err := template.New("").Funcs(sprig.TxtFuncMap()).Parse(format)
	if err != nil {
		fail("format: %s", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, alerts); err != nil {
		fail("format: %s", err)
	}
	return b.String()
}

func waitFor(path string, want string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	var got []byte
	for time.Now().Before(deadline) {
		got, _ = os.ReadFile(path)
		if len(got) >= len(want) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if string(got) != want {
		n := 0
		for n < len(got) && n < len(want) && got[n] == want[n] {
			n++
		}
		fail("%s holds %d bytes, want %d; first difference at byte %d",
			path, len(got), len(want), n)
	}
}

func main() {
	pluginDir := flag.String("plugin-dir", "", "config_paths.plugin_dir")
	notifDir := flag.String("notification-dir", "", "config_paths.notification_dir")
	logDir := flag.String("log-dir", "", "where crowdsec.log goes")
	name := flag.String("notification", "cfile_default", "the notification config the profile uses")
	flag.Parse()
	if *pluginDir == "" || *notifDir == "" || *logDir == "" {
		fail("usage: csbroker -plugin-dir D -notification-dir D -log-dir D")
	}

	// crowdsec's own logging: its main logger and every plugin's hclog
	// lines (re-logged by csplugin's adapter) go to crowdsec.log.
	if err := types.SetDefaultLoggerConfig("file", *logDir, log.TraceLevel, 0, 0, 0, nil, false); err != nil {
		fail("logger: %s", err)
	}

	// Debian's /etc/crowdsec/config.yaml: plugins run as nobody:nogroup.
	// Only root can do that; anyone else runs them as themselves, as
	// crowdsec does with an empty plugin_config.
	pluginCfg := &csconfig.PluginCfg{}
	if u, _ := user.Current(); u != nil && u.Uid == "0" {
		pluginCfg.User, pluginCfg.Group = "nobody", "nogroup"
	}
	// Debian's /etc/crowdsec/profiles.yaml default_ip_remediation, with
	// the notification turned on.
	profiles := []*csconfig.ProfileCfg{{
		Name:          "default_ip_remediation",
		Filters:       []string{`Alert.Remediation == true && Alert.GetScope() == "Ip"`},
		Decisions:     []models.Decision{{Type: strp("ban"), Duration: strp("4h")}},
		OnSuccess:     "break",
		Notifications: []string{*name},
	}}
	paths := &csconfig.ConfigurationPaths{PluginDir: *pluginDir, NotificationDir: *notifDir}

	var cfg *csplugin.PluginConfig
	files, _ := filepath.Glob(filepath.Join(*notifDir, "*.yaml"))
	for _, f := range files {
		pcs, err := csplugin.ParsePluginConfigFile(f)
		if err != nil {
			fail("%s", err)
		}
		for i := range pcs {
			if pcs[i].Name == *name {
				cfg = &pcs[i]
			}
		}
	}
	if cfg == nil {
		fail("no notification config named %s in %s", *name, *notifDir)
	}
	outFile, _ := cfg.Config["output_file"].(string)
	if outFile == "" {
		fail("%s has no output_file", *name)
	}

	var broker csplugin.PluginBroker
	var pluginTomb tomb.Tomb
	if err := broker.Init(pluginCfg, profiles, paths); err != nil {
		broker.Kill() // plugins Init started before it failed
		fail("broker init: %s", err)
	}
	started = &broker
	pluginTomb.Go(func() error {
		broker.Run(&pluginTomb)
		return nil
	})
	runtimes, err := csprofiles.NewProfile(profiles)
	if err != nil {
		fail("profiles: %s", err)
	}

	// Two local alerts, one after the other: each must become one
	// notification, appended in order. The messages carry what a careless
	// plugin would mangle: quotes, backslashes, a tab, non-ASCII text, and
	// 70 KB, more than four HTTP/2 frames.
	big := strings.Repeat("0123456789abcdef", 70000/16)
	messages := []string{
		"Ip 192.0.2.7 performed 'crowdsecurity/ssh-bf' (6 events over 5s) \"quoted\" back\\slash\ttab ünïcødé ✓ 日本",
		"Ip 198.51.100.23 performed 'crowdsecurity/ssh-bf' " + big,
	}
	ips := []string{"192.0.2.7", "198.51.100.23"}
	want := ""
	for i, msg := range messages {
		alert := localAlert(ips[i], msg)
		sent := false
		for pIdx, profile := range runtimes {
			decisions, matched, err := profile.EvaluateProfile(alert)
			if err != nil {
				fail("profile: %s", err)
			}
			if !matched {
				continue
			}
			alert.Decisions = append(alert.Decisions, decisions...)
			profileAlert := *alert
			broker.PluginChannel <- csplugin.ProfileAlert{ProfileID: uint(pIdx), Alert: &profileAlert}
			sent = true
			want += render(cfg.Format, []*models.Alert{&profileAlert}) + "\n"
			if profile.Cfg.OnSuccess == "break" {
				break
			}
		}
		if !sent || want == "" {
			fail("the local alert matched no profile")
		}
		waitFor(outFile, want, 20*time.Second)
		fmt.Printf("csbroker: notification %d arrived intact (%d bytes in %s)\n", i+1, len(want), outFile)
	}

	// crowdsec's shutdown: the plugin tomb dies, the broker kills every
	// plugin (go-plugin's Client.Kill: Shutdown, then up to 2 s).
	t0 := time.Now()
	pluginTomb.Kill(errors.New("terminating"))
	pluginTomb.Wait()
	started = nil
	fmt.Printf("csbroker: plugins stopped in %d ms\n", time.Since(t0).Milliseconds())

	logText, err := os.ReadFile(filepath.Join(*logDir, "crowdsec.log"))
	if err != nil {
		fail("%s", err)
	}
	logs := string(logText)
	for _, need := range []string{"registered plugin " + *name, `msg="plugin exited"`, `msg="plugin process exited"`} {
		if !strings.Contains(logs, need) {
			fail("crowdsec.log lacks %q", need)
		}
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "plugin failed to exit gracefully") ||
			(strings.Contains(line, `msg="plugin process exited"`) && strings.Contains(line, "error=")) {
			fail("the plugin did not exit cleanly: %s", line)
		}
	}
	fmt.Println("csbroker: the plugin exited by itself, status 0, after Shutdown")
}
