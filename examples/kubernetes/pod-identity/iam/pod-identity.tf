# The role, its permissions and the Pod Identity association, for teams that manage IAM and EKS
# with Terraform. The trust policy is read from trust-policy.json next to this file, the one
# `podcreds trust-policy lint --mode pod-identity` checks.
resource "aws_iam_role" "checkout_pod_identity" {
  name               = "checkout-pod-identity"
  assume_role_policy = file("${path.module}/trust-policy.json")
}

resource "aws_iam_role_policy_attachment" "checkout_pod_identity_s3" {
  role       = aws_iam_role.checkout_pod_identity.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
}

resource "aws_eks_pod_identity_association" "checkout" {
  cluster_name    = "my-cluster"
  namespace       = "shop"
  service_account = "checkout"
  role_arn        = aws_iam_role.checkout_pod_identity.arn
}
