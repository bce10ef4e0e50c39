import com.carrotsearch.randomizedtesting.RandomizedRunner;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.node.MockNode;
import org.elasticsearch.transport.netty4.Netty4Plugin;
import org.junit.Test;
import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.RunWith;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One real Elasticsearch node for the test harness (tests/harness/elasticsearch.py).
 *
 * Usage: java -Dtests.security.manager=false -cp <classes>:<jars> ElasticsearchTestNode <settings.json>
 *
 * The test framework's MockNode (server + the Netty4 HTTP transport plugin) must be created inside a
 * randomized-testing context, so the node runs as the single test of this JUnit class under
 * RandomizedRunner. It serves until its standard input closes (the harness closes it on stop, and the
 * kernel closes it when the harness process dies), then closes the node and exits.
 */
@RunWith(RandomizedRunner.class)
public class ElasticsearchTestNode {
    private static Path settingsFile;

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: ElasticsearchTestNode <settings.json>");
            System.exit(2);
        }
        settingsFile = Path.of(args[0]);
        Result result = JUnitCore.runClasses(ElasticsearchTestNode.class);
        result.getFailures().forEach(failure -> System.err.println("node failed: " + failure.getTrace()));
        System.exit(result.wasSuccessful() ? 0 : 1);
    }

    @Test
    public void serveUntilStandardInputCloses() throws Exception {
        Settings settings = Settings.builder().loadFromPath(settingsFile).build();
        MockNode node = new MockNode(settings, List.of(Netty4Plugin.class));
        node.start();
        System.out.println("ElasticsearchTestNode: started; serving until standard input closes");
        System.out.flush();
        while (System.in.read() != -1) {
            // input is ignored: only its end matters
        }
        System.out.println("ElasticsearchTestNode: standard input closed; stopping the node");
        node.close();
        node.awaitClose(30, TimeUnit.SECONDS);
    }
}
