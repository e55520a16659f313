## A result whose images went missing from storage before they could be sent

result-lost = ⚠️ { $count ->
    [one] { $count } image could
   *[other] { $count } images could
} not be delivered. Write to /support and we will sort it out.
