package software.amazon.awssdk.enhanced.dynamodb;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

public interface DynamoDbEnhancedClient {
    static DynamoDbEnhancedClient create() { return null; }
    static Builder builder() { return null; }
    String table(String name);

    interface Builder {
        Builder dynamoDbClient(DynamoDbClient client);
        DynamoDbEnhancedClient build();
    }
}
