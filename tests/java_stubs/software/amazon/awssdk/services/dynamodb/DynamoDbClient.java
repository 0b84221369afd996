package software.amazon.awssdk.services.dynamodb;

import software.amazon.awssdk.regions.Region;

public interface DynamoDbClient extends AutoCloseable {
    static DynamoDbClient create() { return null; }
    static Builder builder() { return null; }
    void close();
    String serviceName();

    interface Builder {
        Builder region(Region region);
        DynamoDbClient build();
    }
}
