package dev.siteward.gateway.mqtt;

import dev.siteward.pki.PkiException;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.pki.tls.NoDelaySocketFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an external Mosquitto in step with revocations. On every revocation or suspension it (1) rewrites the CRL
 * in the directory {@code siteward mqtt mosquitto-config} wrote, (2) makes Mosquitto re-read it — SIGHUP to the pid
 * in {@code mosquitto.pid}, or the configured reload command — so the client's reconnect fails its TLS handshake,
 * and (3) ends the live session through the dynamic-security plugin ({@code createClient}, {@code disableClient},
 * which kicks every connection with that username, then {@code deleteClient}, so the plugin keeps no state that would
 * change the ACL file's rights). Mosquitto re-checks neither CRL nor ACL on open connections, so step 3 is what cuts
 * a live session. The work runs on one background thread in order; the revocation itself never waits for it.
 */
public final class MosquittoControl implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MosquittoControl.class);
    static final String CONTROL_TOPIC = "$CONTROL/dynamic-security/v1";

    private final Path dir;
    private final SiteCa ca;
    private final String reloadCommand;
    private final MqttAsyncClient client;
    private final MqttConnectionOptions options;
    /** How often the CRL file is compared with the CA's current CRLs (re-signed before they expire). */
    static final long CRL_CHECK_MINUTES = 30;

    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "mosquitto-control");
        t.setDaemon(true);
        return t;
    });

    public MosquittoControl(Path dir, SiteCa ca, MqttServiceCredential credential, String host, int port,
                            String reloadCommand) throws IOException, GeneralSecurityException, MqttException {
        if (!Files.isRegularFile(dir.resolve("mosquitto.conf"))) {
            throw new IOException("no mosquitto.conf in " + dir + ": run 'siteward mqtt mosquitto-config --out "
                    + dir + "' first");
        }
        this.dir = dir;
        this.ca = ca;
        this.reloadCommand = reloadCommand;
        this.client = new MqttAsyncClient("ssl://" + host + ":" + port,
                "service/" + credential.name() + "/control", new MemoryPersistence());
        this.options = new MqttConnectionOptions();
        options.setSocketFactory(NoDelaySocketFactory.wrap(sslContext(credential, ca.root()).getSocketFactory()));
        options.setAutomaticReconnect(true);
        options.setAutomaticReconnectDelay(1, 10);
        options.setCleanStart(true);
        options.setConnectionTimeout(10);
    }

    /**
     * Uses a renewed service credential from the next (re)connect on; the open control connection stays (Mosquitto
     * checks client certificates only at the handshake).
     */
    public void useCredential(MqttServiceCredential credential) throws GeneralSecurityException, IOException {
        options.setSocketFactory(NoDelaySocketFactory.wrap(sslContext(credential, ca.root()).getSocketFactory()));
    }

    /**
     * Brings the broker's CRL up to date and opens the control connection (retried in the background); from then on
     * checks every {@value #CRL_CHECK_MINUTES} minutes that the file holds the CA's current CRLs (which the CA
     * re-signs before they expire — an expired CRL would make Mosquitto refuse every client).
     */
    public void start() {
        worker.submit(() -> {
            refreshCrl();
            connect();
        });
        worker.scheduleWithFixedDelay(this::refreshCrlIfChanged, CRL_CHECK_MINUTES, CRL_CHECK_MINUTES,
                TimeUnit.MINUTES);
    }

    private void refreshCrlIfChanged() {
        try {
            String current = MosquittoFiles.crlPem(ca);
            Path file = dir.resolve("crl.pem");
            if (!Files.exists(file) || !Files.readString(file, StandardCharsets.US_ASCII).equals(current)) {
                refreshCrl();
            }
        } catch (IOException | PkiException | RuntimeException e) {
            LOG.warn("could not check Mosquitto's CRL in {}: {}", dir, e.toString());
        }
    }

    private void connect() {
        try {
            client.connect(options).waitForCompletion(15_000);
            LOG.info("connected to Mosquitto's control topic at {}", client.getServerURI());
        } catch (MqttException e) {
            LOG.warn("cannot reach Mosquitto at {} ({}); retrying at the next revocation", client.getServerURI(),
                    e.getMessage());
        }
    }

    /** Schedules the cut-off of a connection-tracker identity ({@code device/<id>} or {@code service/<name>}). */
    public void cutOff(String identity) {
        int slash = identity.indexOf('/');
        String kind = identity.substring(0, Math.max(slash, 0));
        if (!kind.equals("device") && !kind.equals("service")) {
            return;
        }
        String username = identity.substring(slash + 1);
        worker.submit(() -> {
            refreshCrl();
            kick(username);
        });
    }

    private void refreshCrl() {
        try {
            SecureFiles.writeAtomically(dir.resolve("crl.pem"), MosquittoFiles.crlPem(ca), false);
        } catch (IOException | PkiException | RuntimeException e) {
            LOG.error("could not write Mosquitto's CRL in {}: {}", dir, e.toString());
            return;
        }
        reload();
    }

    private void reload() {
        List<String> cmd;
        if (reloadCommand != null && !reloadCommand.isBlank()) {
            cmd = List.of("/bin/sh", "-c", reloadCommand);
        } else {
            Path pidFile = dir.resolve("mosquitto.pid");
            String pid;
            try {
                pid = Files.readString(pidFile, StandardCharsets.US_ASCII).strip();
            } catch (IOException e) {
                LOG.warn("no {}: Mosquitto reads the new CRL only when reloaded (SIGHUP)", pidFile);
                return;
            }
            if (!pid.matches("\\d{1,10}")) {
                LOG.warn("{} does not hold a pid", pidFile);
                return;
            }
            cmd = List.of("kill", "-HUP", pid);
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                LOG.warn("reloading Mosquitto failed ({}): {}", String.join(" ", cmd), out);
            }
        } catch (IOException e) {
            LOG.warn("reloading Mosquitto failed: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void kick(String username) {
        if (!client.isConnected()) {
            connect();
        }
        String json = "{\"commands\":[{\"command\":\"createClient\",\"username\":\"" + username + "\"},"
                + "{\"command\":\"disableClient\",\"username\":\"" + username + "\"},"
                + "{\"command\":\"deleteClient\",\"username\":\"" + username + "\"}]}";
        MqttMessage m = new MqttMessage(json.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                IMqttToken t = client.publish(CONTROL_TOPIC, m);
                t.waitForCompletion(5_000);
                LOG.info("asked Mosquitto to disconnect '{}'", username);
                return;
            } catch (MqttException e) {
                LOG.warn("could not ask Mosquitto to disconnect '{}': {}", username, e.getMessage());
            }
        }
    }

    private static SSLContext sslContext(MqttServiceCredential credential, X509Certificate root)
            throws GeneralSecurityException, IOException {
        char[] pw = "in-memory".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        java.security.PrivateKey key = credential.key();
        if ("ECDSA".equals(key.getAlgorithm())) {
            key = java.security.KeyFactory.getInstance("EC")
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
        }
        ks.setKeyEntry("service", key, pw, credential.chain().toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    @Override
    public void close() {
        worker.shutdown();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
            if (client.isConnected()) {
                client.disconnect().waitForCompletion(2_000);
            }
            client.close();
        } catch (MqttException | InterruptedException e) {
            LOG.debug("closing the Mosquitto control connection: {}", e.toString());
        }
    }
}
