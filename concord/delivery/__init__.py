"""What to send to whom (compose), the lanes messages wait in, and the retry schedule:
the delivery stage's parts that import no Faust (the stage is `concord.agents.deliver`)."""
